"""A receptionist logs the consent of فاطمة الزهراء (a Spanish number) on a phone, reads the
receipt in English and in Arabic, then the DPO reads the dashboard and the Arabic register on a
phone: the number reads "+34 600 12 34 56" everywhere, and no page needs sideways scrolling.
Real chromium at 390x844, against the live server."""

import pytest
from playwright.sync_api import expect

from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import PurposeFactory, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARABIC_NAME = "فاطمة الزهراء"
NUMBER = "+34 600 12 34 56"

# Where the number is drawn: its direction and isolation as computed, its text as rendered, and
# whether its characters run left to right on screen (each one starts right of the one before).
READ_NUMBER = """element => {
  const bdi = element.querySelector('bdi[dir="ltr"]');
  const style = getComputedStyle(bdi);
  const text = bdi.firstChild;
  const range = document.createRange();
  const lefts = [];
  for (let i = 0; i < text.length; i++) {
    if (text.data[i] === ' ') continue;
    range.setStart(text, i); range.setEnd(text, i + 1);
    lefts.push(range.getBoundingClientRect().left);
  }
  return {
    direction: style.direction,
    unicodeBidi: style.unicodeBidi,
    text: bdi.innerText,
    leftToRight: lefts.every((left, i) => i === 0 || left > lefts[i - 1]),
  };
}"""

# Widest content on the page and inside any scrolling wrapper, against the window's width.
OVERFLOW = """() => ({
  page: document.scrollingElement.scrollWidth,
  window: window.innerWidth,
  wrappers: [...document.querySelectorAll('.table-responsive')]
    .filter(w => w.scrollWidth > w.clientWidth).length,
})"""


@pytest.fixture
def clinic(transactional_db):
    org, _dpo = clinic_with_dpo()
    reminders = PurposeFactory(organisation=org, code="reminders", name="Recordatorios de citas")
    published_notice(purposes=[reminders], version="2025-09", summary="Le recordaremos sus citas.")
    return org


def _assert_reads_left_to_right(locator):
    assert locator.evaluate(READ_NUMBER) == {
        "direction": "ltr",
        "unicodeBidi": "isolate",
        "text": NUMBER,
        "leftToRight": True,
    }


def _assert_fits(page):
    widths = page.evaluate(OVERFLOW)
    assert widths["page"] <= widths["window"], widths
    assert widths["wrappers"] == 0, widths


def _in_language(context, live_server, language):
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def test_a_spanish_number_next_to_an_arabic_name_reads_the_right_way_on_a_phone(
    browser, live_server, clinic
):
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    log_in(page, live_server)

    page.goto(f"{live_server.url}/o/clinic/capture/")
    page.get_by_label("Phone number").fill("600 12 34 56")
    page.get_by_label("Full name").fill(ARABIC_NAME)
    page.get_by_label("Recordatorios de citas").check()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_test_id("receipt")).to_contain_text(ARABIC_NAME)
    receipt = page.url

    # English page: the number follows the Arabic name and would print "56 34 12 600 34+".
    _assert_reads_left_to_right(page.get_by_test_id("receipt-phone"))
    assert page.get_by_test_id("reference").inner_text() == "#1"
    _assert_fits(page)

    _in_language(phone, live_server, "ar")
    page.goto(receipt)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    _assert_reads_left_to_right(page.get_by_test_id("receipt-phone"))
    assert "2025-09" in page.locator("table").inner_text()
    _assert_fits(page)

    page.get_by_role("link", name=ARABIC_NAME).first.click()
    _assert_reads_left_to_right(page.get_by_test_id("subject-phone"))
    _assert_fits(page)

    page.goto(f"{live_server.url}/o/clinic/register/")
    row = page.get_by_test_id("register-row")
    expect(row).to_have_count(1)
    _assert_reads_left_to_right(row.locator("td").first)
    _assert_fits(page)

    _in_language(phone, live_server, "en")
    page.goto(f"{live_server.url}/o/clinic/")
    expect(page.get_by_role("heading", name="Recent activity")).to_be_visible()
    _assert_fits(page)
    phone.close()
