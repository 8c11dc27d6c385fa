"""The DPO carries out an erasure on a phone: the fulfilment page, the form, the summary, and
the person gone from People. Real chromium at 390x844, against the live server."""

import os

import pytest
from playwright.sync_api import expect

from consents.models import DataSubject
from rights_requests.choices import Right
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.rights_requests.fulfil_factories import rights_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set to a folder to keep screenshots of each step (to look at the pages).
SHOTS = os.environ.get("FULFILMENT_SCREENSHOTS", "")


@pytest.fixture
def clinic(transactional_db, fresh_rate_limits):
    org, _dpo = clinic_with_dpo()
    purpose = PurposeFactory(organisation=org, code="offers", name="Promociones")
    notice = published_notice(purposes=[purpose])
    person = DataSubjectFactory(organisation=org, full_name="Lucía Pérez", phone="+34612345678")
    grant(person, purpose, notice)
    return {"org": org, "person": person, "request": rights_request(person, Right.ERASURE)}


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_the_dpo_erases_and_the_person_disappears(browser, live_server, clinic):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server)

    request = clinic["request"]
    page.goto(f"{live_server.url}/o/clinic/requests/{request.pk}/fulfilment/")
    panel = page.get_by_test_id("fulfilment-panel")
    expect(panel).to_contain_text("blocked")
    _shot(page, "1-panel-before")
    page.get_by_test_id("fulfil-button").click()
    expect(page.get_by_test_id("erase-button")).to_be_visible()
    _shot(page, "2-erasure-form")
    page.get_by_test_id("erase-button").click()
    expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    page.get_by_label("I have checked").check()
    page.get_by_test_id("erase-button").click()

    expect(page.get_by_test_id("fulfilment-done")).to_be_visible()
    expect(page.get_by_test_id("fulfilment-blocked")).to_be_visible()
    expect(page.get_by_test_id("fulfilment-withdrawn")).to_contain_text("#2")
    _shot(page, "3-panel-after")
    assert DataSubject.objects.get(pk=clinic["person"].pk).status == DataSubject.Status.BLOCKED

    page.goto(f"{live_server.url}/o/clinic/subjects/?q=612345678")
    expect(page.get_by_test_id("subject-row")).to_have_count(0)
    page.goto(f"{live_server.url}/o/clinic/subjects/{clinic['person'].pk}/")
    expect(page.get_by_test_id("subject-status")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Lucía")
    _shot(page, "4-person-blocked")
    context.close()
