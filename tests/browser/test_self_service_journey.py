"""A person opens their own consent link on a phone, consents, withdraws in one click; the DPO sees
both events. A consent staff logged by phone is confirmed through the link (double opt-in).
Real chromium at 390x844, against the live server."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from consents import services
from consents.models import Action, Channel, ConsentEvent, DataSubject
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db, fresh_rate_limits):
    org, _dpo = clinic_with_dpo()
    staff = UserFactory(email="staff@clinic.example")
    MembershipFactory(organisation=org, role=Role.STAFF, user=staff)
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    appointments = PurposeFactory(organisation=org, code="appointments", name="Citas")
    notice = published_notice(
        purposes=[marketing, appointments],
        summary="Le enviaremos ofertas y recordatorios por WhatsApp.",
        text="WhatsApp transfiere datos a EE. UU. (Marco de Privacidad de Datos).",
    )
    person = DataSubjectFactory(
        organisation=org, full_name="Lucía Pérez", phone="+34600123456", preferred_language="es"
    )
    link = services.consent_link_create(organisation=org, created_by=staff, subject=person)
    return {"org": org, "staff": staff, "marketing": marketing, "notice": notice, "link": link}


def _phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    return context, context.new_page()


def _dpo_subject_page(browser, live_server, subject):
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/clinic/subjects/{subject.pk}/")
    return desk, page


def test_a_person_consents_then_withdraws_through_their_link(browser, live_server, clinic):
    context, page = _phone_page(browser)
    page.goto(f"{live_server.url}/c/{clinic['link'].token}/")
    expect(page.get_by_test_id("public-org")).to_have_text("Clínica Dental Norte S.L.")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    promos = page.get_by_label("Promociones")
    expect(promos).not_to_be_checked()
    expect(page.get_by_label("Citas")).not_to_be_checked()
    page.get_by_text("Aviso completo").first.click()
    expect(page.get_by_text("Marco de Privacidad de Datos").first).to_be_visible()
    promos.check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Guardar mis elecciones").click()
    expect(page.get_by_role("alert")).to_contain_text("Gracias")

    row = page.locator('[data-testid="purpose-choice"][data-purpose="marketing"]')
    expect(row.get_by_test_id("choice-state")).to_contain_text("Usted aceptó")
    row.get_by_test_id("withdraw").click()
    expect(page.get_by_role("alert")).to_contain_text("ha retirado su consentimiento")
    expect(row.get_by_test_id("choice-state")).to_contain_text("Retiró su consentimiento")
    expect(page.get_by_label("Promociones")).not_to_be_checked()
    context.close()

    person = clinic["link"].subject
    desk, page = _dpo_subject_page(browser, live_server, person)
    expect(page.get_by_test_id("timeline-event")).to_have_count(2)
    expect(page.get_by_test_id("timeline-event").first).to_contain_text("withdrawn")
    expect(page.get_by_test_id("timeline-event").first).to_contain_text("by the person themself")
    expect(page.get_by_test_id("timeline-event").last).to_contain_text("Web form")
    desk.close()
    actions = list(
        ConsentEvent.objects.filter(subject=person)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [Action.GRANTED, Action.WITHDRAWN]


def test_a_staff_logged_consent_confirmed_through_the_link_shows_as_confirmed(
    browser, live_server, clinic
):
    person = DataSubject.objects.get(pk=clinic["link"].subject_id)
    (staff_event,) = grant(
        person,
        clinic["marketing"],
        clinic["notice"],
        channel=Channel.PHONE_CALL,
        recorded_by=clinic["staff"],
    )
    context, page = _phone_page(browser)
    page.goto(f"{live_server.url}/c/{clinic['link'].token}/")
    confirm = page.get_by_label("Confirmar: Promociones")
    expect(confirm).not_to_be_checked()
    confirm.check()
    page.get_by_role("button", name="Guardar mis elecciones").click()
    expect(page.get_by_role("alert")).to_contain_text("Gracias")
    context.close()

    desk, page = _dpo_subject_page(browser, live_server, person)
    row = page.locator('[data-testid="state-row"][data-purpose="marketing"]')
    expect(row.get_by_test_id("confirmation")).to_have_text("confirmed by the person")
    expect(page.get_by_test_id("confirms")).to_have_text(f"confirms #{staff_event.sequence}")
    desk.close()
    assert ConsentEvent.objects.get(confirms=staff_event).by_subject is True
