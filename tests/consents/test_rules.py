"""The rule book (consents/rules.py): each rule on its own, and the rule that there is one book."""

import ast
import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consents import rules
from consents.choices import Action, SubjectKind
from consents.models import NoticeVersion
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "consents", "groups", "evidence", "jobs", "processing", "rights_requests")


def _notice(language, published_at, pk):
    return SimpleNamespace(language=language, published_at=published_at, pk=pk)


def test_the_notice_shown_is_the_persons_language_then_the_organisations_then_any():
    day = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    old_es = _notice("es", day, 1)
    new_es = _notice("es", day + datetime.timedelta(days=9), 2)
    en = _notice("en", day + datetime.timedelta(days=30), 3)
    ar = _notice("ar", day, 4)
    published = [old_es, new_es, en, ar]

    assert rules.choose_notice(published, language="ar", fallback_language="es") is ar
    assert rules.choose_notice(published, language="en", fallback_language="es") is en
    assert rules.choose_notice([old_es, new_es, en], language="ar", fallback_language="es") is (
        new_es
    )
    assert rules.choose_notice([en], language="ar", fallback_language="es") is en
    assert rules.choose_notice([], language="ar", fallback_language="es") is None


def test_the_queryset_applies_the_same_rule_to_the_database(org):
    purpose = PurposeFactory(organisation=org)
    english = published_notice(purposes=[purpose], language="en", title="Notice")
    assert org.default_language == "es"
    assert NoticeVersion.objects.to_show(purpose, "ar") == english
    spanish = published_notice(purposes=[purpose], language="es", title="Aviso")
    assert NoticeVersion.objects.to_show(purpose, "ar") == spanish
    assert NoticeVersion.objects.to_show(purpose, "en") == english


def test_a_blocked_person_is_refused_with_the_law_in_the_message(org):
    person = DataSubjectFactory(organisation=org, blocked=True)
    with pytest.raises(ValidationError, match="blocked") as caught:
        person.ensure_recordable()
    assert caught.value.code == "blocked"
    DataSubjectFactory(organisation=org, phone="+34611000111").ensure_recordable()


def test_the_clock_allows_five_minutes_of_drift_and_no_more():
    now = timezone.now()
    rules.ensure_not_in_future(now + datetime.timedelta(minutes=4), now=now)
    with pytest.raises(ValidationError, match="future"):
        rules.ensure_not_in_future(now + datetime.timedelta(minutes=6), now=now)


def test_a_purpose_for_employees_is_refused_for_a_customer(org):
    staff_group = PurposeFactory(organisation=org, audience=SubjectKind.EMPLOYEE, name="Equipo")
    rules.ensure_fits(staff_group, SubjectKind.EMPLOYEE)
    rules.ensure_fits(PurposeFactory(organisation=org), SubjectKind.CUSTOMER)
    with pytest.raises(ValidationError, match="Equipo"):
        rules.ensure_fits(staff_group, SubjectKind.CUSTOMER)


def test_a_link_that_is_not_personal_cannot_overturn_a_refusal_or_a_withdrawal():
    for action in (Action.REFUSED, Action.WITHDRAWN):
        rules.ensure_attributable(action, personal=True)
        with pytest.raises(ValidationError) as caught:
            rules.ensure_attributable(action, personal=False)
        assert caught.value.code == "unconfirmed"
    for action in (None, Action.GRANTED):
        rules.ensure_attributable(action, personal=False)


def test_a_withdrawal_needs_a_consent(org):
    purpose = PurposeFactory(organisation=org, name="Ofertas")
    rules.ensure_withdrawable(purpose, current_action=Action.GRANTED)
    for action in (None, Action.REFUSED, Action.WITHDRAWN):
        with pytest.raises(ValidationError, match="Nothing to withdraw"):
            rules.ensure_withdrawable(purpose, current_action=action)


def _messages_of_rules() -> list[str]:
    """Every message a rule raises (the first string argument of each gettext call)."""
    tree = ast.parse((ROOT / "consents" / "rules.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_" and node.args:
            value = node.args[0]
            if isinstance(value, ast.Constant):
                found.append(value.value)
    return found


def _gettext_strings(path: Path) -> set[str]:
    strings = set()
    for node in ast.walk(ast.parse(path.read_text())):
        is_gettext = isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "gettext")
        if is_gettext and node.args and isinstance(node.args[0], ast.Constant):
            strings.add(node.args[0].value)
    return strings


def test_no_other_module_re_implements_a_rule_of_the_rule_book():
    # The messages are the rules' fingerprints: one found elsewhere is a copy that can drift.
    # "Unknown purpose." is also the plain 404-like answer of forms, so it is allowed elsewhere.
    messages = set(_messages_of_rules()) - {"Unknown purpose.", "Choose at least one purpose."}
    assert len(messages) >= 12
    copies = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path.name == "rules.py" or "migrations" in path.parts:
                continue
            for message in _gettext_strings(path) & messages:
                copies.append(f"{path.relative_to(ROOT)}: {message}")
    assert copies == []
