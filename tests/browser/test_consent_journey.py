"""Staff log a consent on a phone; the DPO finds it by another phone format and withdraws one
purpose; the ledger still verifies. Real chromium at 390x844, against the live server."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts.roles import Role
from consents.models import ConsentEvent
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.browser.journey import log_in
from tests.consents.factories import PurposeFactory, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db):
    org = OrganisationFactory(slug="clinic", legal_name="Clínica Dental Norte S.L.")
    for email, role in (("staff@clinic.example", Role.STAFF), ("dpo@clinic.example", Role.DPO)):
        MembershipFactory(organisation=org, role=role, user=UserFactory(email=email))
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    appointments = PurposeFactory(organisation=org, code="appointments", name="Citas")
    published_notice(
        purposes=[marketing, appointments],
        summary="Le enviaremos ofertas y recordatorios por WhatsApp.",
        text="WhatsApp transfiere datos a EE. UU. (Marco de Privacidad de Datos).",
    )
    return org


def _photo() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, format="JPEG")
    return {"name": "formulario.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def test_staff_capture_on_a_phone_then_the_dpo_withdraws_one_purpose(browser, live_server, clinic):
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    log_in(page, live_server, "staff@clinic.example")
    page.locator(".navbar-toggler").click()
    page.get_by_role("link", name="Log consent").click()

    page.get_by_label("Phone number").fill("600 12 34 56")
    expect(page.locator("#lookup")).to_contain_text("New person")
    page.get_by_label("Full name").fill("Lucía Pérez Gómez")
    expect(page.get_by_label("Promociones")).not_to_be_checked()
    page.get_by_label("Promociones").check()
    page.get_by_label("Citas").check()
    page.get_by_label("Their reply, quoted").fill("Sí, acepto")
    page.locator("input[type=file]").set_input_files(_photo())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Record").click()

    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("2 events recorded for Lucía Pérez Gómez")
    expect(page.get_by_test_id("reference")).to_have_text(["#1", "#2"])
    phone.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    log_in(page, live_server, "dpo@clinic.example")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name or phone").fill("+34 600123456")
    page.get_by_role("button", name="Search").click()
    page.get_by_test_id("subject-row").click()
    expect(page.get_by_test_id("subject-name")).to_have_text("Lucía Pérez Gómez")
    expect(page.get_by_test_id("timeline-event")).to_have_count(2)
    expect(page.get_by_role("link", name="formulario.jpg")).to_have_count(2)

    row = page.locator('[data-testid="state-row"][data-purpose="marketing"]')
    row.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("alert")).to_contain_text("withdrawn (reference #3)")
    expect(row.get_by_test_id("state")).to_have_text("withdrawn")
    expect(page.get_by_test_id("timeline-event")).to_have_count(3)

    page.goto(f"{live_server.url}/o/clinic/ledger/")
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_test_id("integrity-status")).to_contain_text("3 events verified")
    desk.close()
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 1
