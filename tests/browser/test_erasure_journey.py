"""A person asks for erasure from their personal link on a phone; staff see the request; the
DPO carries it out and answers; the person is blocked and gone from the register, the search and
the CSV export. Real chromium against the live server (issue 11's journey)."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from consents import services as consent_services
from consents.models import DataSubject
from rights_requests.models import RightsRequest
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def clinic(transactional_db, fresh_rate_limits):
    org, dpo = clinic_with_dpo()
    MembershipFactory(
        organisation=org, role=Role.STAFF, user=UserFactory(email="st@clinic.example")
    )
    purpose = PurposeFactory(organisation=org, code="offers", name="Promociones")
    notice = published_notice(purposes=[purpose])
    person = DataSubjectFactory(organisation=org, full_name="Lucía Pérez", phone="+34612345678")
    grant(person, purpose, notice)
    link = consent_services.consent_link_for_subject(subject=person, created_by=dpo)
    return {"org": org, "person": person, "link": link}


def _logged_in_page(browser, live_server, email, **context):
    page = browser.new_context(**context).new_page()
    log_in(page, live_server, email)
    return page


def test_an_erasure_asked_on_a_phone_ends_with_the_person_blocked_and_gone(
    browser, live_server, clinic
):
    # The person, on their phone, from the consent page their personal link opens.
    person_page = browser.new_context(**PHONE).new_page()
    person_page.goto(f"{live_server.url}/c/{clinic['link'].token}/")
    # The person's language is Spanish: the page speaks it.
    person_page.get_by_test_id("rights-links").get_by_role(
        "link", name="Suprimir mis datos"
    ).click()
    expect(person_page.locator("input[name=right][value=erasure]")).to_be_checked()
    person_page.get_by_test_id("link-request-form").get_by_role("button").click()
    expect(person_page.get_by_test_id("my-request")).to_have_count(1)
    rr = RightsRequest.objects.get()
    expect(person_page.locator("body")).to_contain_text(rr.reference)

    # Staff see it in the register; the personal link already settled who is asking.
    staff = _logged_in_page(browser, live_server, "st@clinic.example", **PHONE)
    staff.goto(f"{live_server.url}/o/clinic/requests/")
    staff.get_by_role("link", name=rr.reference).click()
    expect(staff.get_by_test_id("identity")).to_have_attribute("data-verified", "yes")
    expect(staff.get_by_test_id("fulfil-button")).to_have_count(0)  # only the DPO carries out

    # The DPO carries out the erasure, then answers.
    dpo = _logged_in_page(browser, live_server, "dpo@clinic.example")
    dpo.goto(f"{live_server.url}/o/clinic/requests/{rr.pk}/")
    dpo.get_by_test_id("fulfil-button").click()
    dpo.get_by_label("I have checked").check()
    dpo.get_by_test_id("erase-button").click()
    expect(dpo.get_by_test_id("fulfilment-blocked")).to_be_visible()
    dpo.goto(f"{live_server.url}/o/clinic/requests/{rr.pk}/")
    expect(dpo.get_by_test_id("carried-out")).to_contain_text("carried out")
    dpo.get_by_test_id("answer").click()
    dpo.get_by_label("How the letter is sent").select_option("personal_link")
    dpo.get_by_role("button", name="Answer and send the letter").click()
    expect(dpo.get_by_test_id("reference")).to_be_visible()
    rr.refresh_from_db()
    assert rr.status == RightsRequest.Status.ANSWERED
    assert rr.answered_on_time

    person = DataSubject.objects.get(pk=clinic["person"].pk)
    assert person.status == DataSubject.Status.BLOCKED
    assert person.purge_after is not None

    # Gone from the register, the people search and the CSV export.
    dpo.goto(f"{live_server.url}/o/clinic/subjects/?q=612345678")
    expect(dpo.get_by_test_id("subject-row")).to_have_count(0)
    dpo.goto(f"{live_server.url}/o/clinic/register/")
    expect(dpo.locator("main")).not_to_contain_text("Lucía")
    csv = dpo.request.get(f"{live_server.url}/o/clinic/register.csv").text()
    assert "Lucía" not in csv and "612345678" not in csv
