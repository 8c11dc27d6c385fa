"""A person scans the group's QR code on a phone, reads the notice, consents and lands on the
WhatsApp invite; the DPO then sees the membership with its consent event. Chromium at 390x844;
the request to chat.whatsapp.com is intercepted, so nothing leaves the machine."""

import pytest
from playwright.sync_api import expect

from groups.models import GroupMembership
from tests.browser.journey import clinic_with_dpo, log_in
from tests.groups.factories import group_with_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def group(transactional_db, fresh_rate_limits):
    org, _dpo = clinic_with_dpo()
    return group_with_notice(org, name="Pacientes ortodoncia")


def test_a_person_consents_through_the_invite_and_the_dpo_sees_it(browser, live_server, group):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = phone.new_page()
    requested = []

    def whatsapp(route):
        requested.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>WhatsApp</h1>")

    page.route("https://chat.whatsapp.com/**", whatsapp)
    page.goto(f"{live_server.url}/g/{group.invite_token}/")
    expect(page.get_by_test_id("group-name")).to_contain_text("Pacientes ortodoncia")
    expect(page.get_by_test_id("notice")).to_contain_text("You join the group")
    assert "chat.whatsapp.com" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Your name").fill("Lucía Pérez Gómez")
    page.get_by_label("Your WhatsApp number").fill("600 12 34 56")
    checkbox = page.locator("#join")
    expect(checkbox).not_to_be_checked()
    checkbox.check()
    page.get_by_role("button", name="Agree and join the group").click()
    page.wait_for_url("https://chat.whatsapp.com/**")
    assert requested == [group.invite_url]
    phone.close()

    membership = GroupMembership.objects.get()
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = desk.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/clinic/groups/{group.pk}/")
    row = page.get_by_test_id("member-row")
    expect(row).to_contain_text("Lucía Pérez Gómez")
    expect(row.get_by_test_id("member-consent")).to_have_text("granted")
    expect(row.get_by_test_id("member-event")).to_contain_text(
        f"event #{membership.consent_event.sequence} · Invite link"
    )
    desk.close()
