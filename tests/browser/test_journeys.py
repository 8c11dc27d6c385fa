"""A DPO's day in a real browser: log in, change language, add a member, log out."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.journey import clinic_with_dpo, log_in

# live_server empties the database between tests (TransactionTestCase): each test makes its cast.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dpo_user(transactional_db):
    _org, user = clinic_with_dpo(full_name="Dolores Pérez")
    return user


def test_a_dpo_switches_language_adds_a_staff_member_and_logs_out(page, live_server, dpo_user):
    log_in(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Clínica Dental Norte S.L.")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")

    page.locator('footer button[value="ar"]').click()
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    page.locator('footer button[value="en"]').click()
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("navigation").get_by_role("link", name="Members").click()
    expect(page).to_have_url(f"{live_server.url}/o/clinic/members/")
    invite = page.locator("form").filter(has=page.get_by_role("button", name="Add member"))
    invite.get_by_label("E-mail address").fill("nuevo@clinic.example")
    invite.get_by_label("Full name").fill("Nuevo Empleado")
    invite.get_by_label("Role").select_option(Role.STAFF)
    invite.get_by_role("button", name="Add member").click()

    expect(page.get_by_role("alert")).to_contain_text("nuevo@clinic.example was added")
    row = page.locator('[data-testid="member-row"][data-email="nuevo@clinic.example"]')
    expect(row).to_contain_text("Nuevo Empleado")
    expect(row).to_contain_text("invitation pending")
    expect(row.locator("select[name=role]")).to_have_value(Role.STAFF)

    page.get_by_role("button", name="Dolores Pérez").click()  # the user menu
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/o/clinic/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/o/clinic/")


def test_pages_make_no_request_to_another_host(page, live_server, dpo_user):
    requests, responses = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: responses.append(response))

    log_in(page, live_server)
    page.wait_for_load_state("networkidle")

    server = urlsplit(live_server.url).netloc
    assert len(requests) > 3
    assert {urlsplit(url).netloc for url in requests} == {server}
    stylesheets = [r for r in responses if r.request.resource_type == "stylesheet"]
    scripts = [r for r in responses if r.request.resource_type == "script"]
    assert stylesheets and all(r.status == 200 for r in stylesheets)
    assert scripts and all(r.status == 200 for r in scripts)
    assert any(r.url.endswith("/bootstrap.min.css") for r in stylesheets)


def test_the_dashboard_fits_a_phone_and_its_menu_opens(page, live_server, dpo_user):
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, live_server)

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    members = page.get_by_role("navigation").get_by_role("link", name="Members")
    expect(members).to_be_hidden()
    page.locator(".navbar-toggler").click()
    expect(members).to_be_visible()
    expect(page.locator("#mainnav")).to_have_class("navbar-collapse collapse show")
