"""The DPO adds a processing activity from a template, sees it linked to the purposes and checked,
changes its retention, and finds the record as it stood before the change (GDPR Art. 30).
Real chromium against the live server (issue 12's journey)."""

import datetime

import pytest
import time_machine
from playwright.sync_api import expect

from consents.models import PurposeCategory
from processing.models import ProcessingActivity
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import PurposeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db, fresh_rate_limits):
    org, _dpo = clinic_with_dpo()
    PurposeFactory(
        organisation=org, code="offers", name="Promociones", category=PurposeCategory.MARKETING
    )
    return org


def test_the_dpo_adds_an_activity_from_a_template_and_reads_the_record_before_a_change(
    browser, live_server, clinic
):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, live_server)

    # Monday: from the marketing template, linked to the clinic's marketing purpose.
    with time_machine.travel(datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)):
        page.goto(f"{live_server.url}/o/clinic/processing/")
        page.get_by_test_id("new-activity").click()
        template = page.get_by_test_id("template-marketing")
        expect(template).to_contain_text("Promociones")
        template.get_by_role("button", name="Use this template").click()
        expect(page.get_by_test_id("activity-form")).to_be_visible()
        activity = ProcessingActivity.objects.get(organisation=clinic)
        assert [line.purpose.code for line in activity.purpose_lines.all()] == ["offers"]
        first_retention = activity.retention
        assert first_retention

    # A week later the retention changes.
    with time_machine.travel(datetime.datetime(2026, 11, 9, 10, 0, tzinfo=datetime.UTC)):
        page.goto(f"{live_server.url}/o/clinic/processing/{activity.pk}/edit/")
        page.get_by_label("Time limits for erasure").fill("Two years after the last purchase.")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(f"{live_server.url}/o/clinic/processing/{activity.pk}/")
        page.goto(f"{live_server.url}/o/clinic/processing/")
        expect(page.get_by_test_id("retention")).to_contain_text("Two years after")

        # The record as it stood on the Wednesday in between.
        page.goto(f"{live_server.url}/o/clinic/processing/?as_of=2026-11-04")
        expect(page.get_by_test_id("as-of-banner")).to_be_visible()
        expect(page.get_by_test_id("retention")).to_contain_text(first_retention[:40])
        expect(page.get_by_test_id("retention")).not_to_contain_text("Two years after")
