"""The DPO asks for a person's signed certificate, sees the job finish and downloads the PDF;
the verification page accepts it. Real chromium against the live server."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.roles import Role
from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import Action, Channel
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def person(transactional_db):
    org = OrganisationFactory(slug="clinic", legal_name="Clínica Dental Norte S.L.")
    MembershipFactory(organisation=org, role=Role.DPO, user=UserFactory(email="dpo@clinic.example"))
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
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-mail address").fill("dpo@clinic.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
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
