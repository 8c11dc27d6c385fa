"""Left-to-right fragments stay isolated in right-to-left text; dates are unambiguous in every
language (config/direction.py, config/formats/)."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from consents.models import LegalBasis
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db


def _render(source: str, **context) -> str:
    return Template("{% load direction %}" + source).render(Context(context))


def test_ltr_isolates_and_escapes():
    assert _render("{{ v|ltr }}", v="+34 600 12 34 56") == '<bdi dir="ltr">+34 600 12 34 56</bdi>'
    assert _render("{{ v|ltr }}", v="<b>&") == '<bdi dir="ltr">&lt;b&gt;&amp;</bdi>'


def test_bdi_and_ref():
    assert _render("{{ v|bdi }}", v="فاطمة") == "<bdi>فاطمة</bdi>"
    assert _render("{{ v|ref }}", v=42) == '<bdi dir="ltr">#42</bdi>'


def test_empty_values_render_nothing():
    assert (
        _render("[{{ a|ltr }}{{ b|bdi }}{{ c|ref }}{{ d|ltr_text }}]", a=None, b="", c=None) == "[]"
    )


def test_ltr_text_wraps_plain_text_in_unicode_isolates_and_still_escapes():
    assert _render("{{ v|ltr_text }}", v="2025-09") == "\u20662025-09\u2069"
    assert _render("{{ v|ltr_text }}", v="<x>") == "\u2066&lt;x&gt;\u2069"


def test_arabic_legal_bases_keep_their_article_reference_left_to_right():
    with translation.override("ar"):
        labels = [str(label) for _, label in LegalBasis.choices]
    assert any("\u20666(1)(a)\u2069" in label for label in labels), labels


@pytest.mark.parametrize(
    ("language", "date", "datetime_"),
    [
        ("en", "2 Dec 2026", "2 Dec 2026, 14:30"),
        ("es", "2 dic 2026", "2 dic 2026, 14:30"),
        ("ar", "2 ديسمبر 2026", "2 ديسمبر 2026، 14:30"),
    ],
)
def test_dates_name_the_month_in_every_language(language, date, datetime_):
    moment = timezone.make_aware(datetime.datetime(2026, 12, 2, 14, 30))
    with translation.override(language):
        rendered = Template(
            '{{ m|date:"SHORT_DATE_FORMAT" }}|{{ m|date:"DATE_FORMAT" }}|'
            '{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"DATETIME_FORMAT" }}'
        ).render(Context({"m": moment}))
    assert rendered == f"{date}|{date}|{datetime_}|{datetime_}"
    assert "12/02" not in rendered
    assert "02/12" not in rendered


@pytest.fixture
def fatima(org, dpo):
    purpose = PurposeFactory(organisation=org, code="reminders", name="Recordatorios")
    notice = published_notice(purposes=[purpose], version="2025-09")
    subject = DataSubjectFactory(organisation=org, full_name="فاطمة الزهراء", phone="+34600123456")
    grant(
        subject,
        purpose,
        notice,
        captured_at=timezone.make_aware(datetime.datetime(2026, 1, 25, 9, 5)),
        recorded_by=dpo,
    )
    return subject


@pytest.mark.parametrize(
    ("language", "when"),
    [("en", "25 Jan 2026, 09:05"), ("es", "25 ene 2026, 09:05"), ("ar", "25 يناير 2026، 09:05")],
)
def test_the_subject_page_isolates_number_and_version_and_names_the_month(
    client, dpo, org, fatima, language, when
):
    client.force_login(dpo)
    client.cookies["django_language"] = language
    page = client.get(f"/o/{org.slug}/subjects/{fatima.pk}/").content.decode()
    assert '<bdi dir="ltr">+34 600 12 34 56</bdi>' in page
    assert '<bdi dir="ltr">2025-09</bdi>' in page
    assert '<bdi dir="ltr">#1</bdi>' in page
    assert when in page
    assert "01/25/2026" not in page
    assert "25/01/2026" not in page
