"""The DPO asks for a person's signed certificate, sees the job finish and downloads the PDF;
the verification page accepts it. Real chromium against the live server."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def person(transactional_db):
    org, _dpo = clinic_with_dpo()
    purpose = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org, full_name="Lucía Pérez Gómez")
    for action in (Action.GRANTED, Action.WITHDRAWN):
        services.consent_record(
            organisation=org,
            act=ConsentAct(
                subject=subject,
                decisions=[Decision(purpose, action, notice)],
                channel=Channel.WHATSAPP,
            ),
        )
    return subject


def test_the_dpo_downloads_a_signed_certificate_and_verifies_it(page, live_server, person):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/clinic/subjects/{person.pk}/")
    page.locator("#cert-language").select_option("en")
    page.get_by_role("button", name="Signed certificate (PDF)").click()

    expect(page).to_have_url(f"{live_server.url}/o/clinic/exports/")
    row = page.get_by_test_id("job-row").first
    expect(row).to_have_attribute("data-status", "done", timeout=30_000)
    with page.expect_download() as download_info:
        row.get_by_test_id("download").click()
    path = download_info.value.path()
    pdf = path.read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Lucía Pérez Gómez" in text

    page.get_by_role("link", name="Verify a certificate or pack someone sends back").click()
    page.get_by_label("Certificate (PDF) or evidence pack (ZIP)").set_input_files(path)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("Verified")
