"""Reads of the consent register that more than one page needs."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from accounts.rows import Part, Rows, in_list, run

from . import chain, rules
from .models import (
    Action,
    ConsentEvent,
    ConsentState,
    DataSubject,
    LedgerHead,
    NoticeVersion,
    Purpose,
    SuppressedNumber,
    UnconfirmedAnswer,
    of_visible_subjects,
)
from .phones import try_parse_phone


def _e164(organisation, phone) -> str | None:
    if phone is None or phone == "":
        return None
    if isinstance(phone, str):
        phone = try_parse_phone(phone, organisation.country)
        if phone is None:
            return None
    return phone.as_e164


def is_suppressed(organisation, phone) -> bool:
    """Whether this number objected to direct marketing (GDPR Art. 21(3)): the "may I send it
    marketing?" check answers no. ``phone``: a PhoneNumber or text in any format; a number that
    cannot be read is not on the list."""
    e164 = _e164(organisation, phone)
    if e164 is None:
        return False
    return SuppressedNumber.objects.filter(
        organisation=organisation, phone_hmac=chain.phone_hmac(organisation.pk, e164)
    ).exists()


def suppressed_among(organisation, e164s) -> set[str]:
    """The E.164 numbers of ``e164s`` on the organisation's suppression list, in one query."""
    by_hmac = {chain.phone_hmac(organisation.pk, n): n for n in set(e164s) if n}
    if not by_hmac:
        return set()
    # Hand-written, as the consent check makes it at every call for a marketing purpose.
    among, params = in_list(by_hmac)
    found = run(
        f"SELECT phone_hmac FROM {SuppressedNumber._meta.db_table}"  # noqa: S608 (names only)
        f" WHERE organisation_id = %s AND phone_hmac {among}",
        [organisation.pk, *params],
    )
    return {by_hmac[h] for (h,) in found}


@dataclass(frozen=True)
class ConsentCheck:
    """The answer to "may I message this number for this purpose, now?" for one number.

    ``reason`` is a stable code for machines ("consented", "no_consent_needed", or the code of
    the consents.rules refusal: "no_consent", "blocked", "purged", "restricted", "suppressed");
    ``message`` says the same to a person. ``event`` is the person's latest event for the
    purpose (ConsentState), the one the answer rests on, or None."""

    e164: str
    allowed: bool
    reason: str
    message: str = ""
    event: ConsentEvent | None = None


# What a consent check tells of the event it rests on (api.serializers.EventRefSerializer);
# other fields load on first use.
EVENT_CHECK_FIELDS = (
    "organisation",
    "subject",
    "purpose",
    "sequence",
    "action",
    "captured_at",
    "notice_version",
)


@cache
def _purpose_query() -> tuple[Rows, str]:
    rows = Rows(Part(Purpose, "p"))
    return rows, (
        f"SELECT {rows.select} FROM {Purpose._meta.db_table} p"  # noqa: S608 (names only)
        " WHERE p.organisation_id = %s AND p.code = %s"
    )


def purpose_by_code(organisation, code: str) -> Purpose | None:
    """The organisation's purpose with this code (the API names purposes by code at every
    consent check: hand-written, accounts.rows)."""
    rows, sql = _purpose_query()
    found = rows.fetch(sql, [organisation.pk, code])
    return found[0][0] if found else None


@cache
def _check_query() -> tuple[Rows, str]:
    """People by number, with their latest event for one purpose and its notice: one query,
    hand-written (accounts.rows) because the API's consent check makes it at every call."""
    rows = Rows(
        Part(DataSubject, "s", ("organisation", "phone", "status")),
        Part(ConsentEvent, "e", EVENT_CHECK_FIELDS),
        Part(NoticeVersion, "n", ("organisation", "language", "version", "sha256")),
    )
    return rows, (
        f"SELECT {rows.select} FROM {DataSubject._meta.db_table} s"  # noqa: S608 (names only)
        f" LEFT JOIN {ConsentState._meta.db_table} st"
        " ON st.subject_id = s.id AND st.purpose_id = %s"
        f" LEFT JOIN {ConsentEvent._meta.db_table} e ON e.id = st.event_id"
        f" LEFT JOIN {NoticeVersion._meta.db_table} n ON n.id = e.notice_version_id"
        " WHERE s.organisation_id = %s AND s.phone {numbers}"
    )


def consent_checks(organisation, e164s: list[str], purpose: Purpose) -> list[ConsentCheck]:
    """The consent check for many numbers (E.164, already parsed) and one purpose, in two
    queries whatever their count (one for a purpose the suppression list does not bar): the
    people with their latest event for the purpose, and the suppression list. No for an
    unknown, blocked, purged or restricted person (LOPDGDD Art. 32, GDPR Art. 18), for a number
    that objected to marketing (Art. 21(3)) and for a purpose that needs consent without a
    current grant; each refusal is the rule book's (consents.rules)."""
    wanted = sorted(set(e164s))
    subjects, events = {}, {}
    if wanted:
        rows, sql = _check_query()
        among, params = in_list(wanted)
        found = rows.fetch(sql.format(numbers=among), [purpose.pk, organisation.pk, *params])
        for subject, event, notice in found:
            if event is not None:
                event.notice_version = notice
                events[subject.pk] = event
            subjects[subject.phone.as_e164] = subject
    suppressed = (
        suppressed_among(organisation, wanted) if rules.suppression_applies(purpose) else set()
    )
    answers = {}
    for e164 in wanted:
        subject = subjects.get(e164)
        event = events.get(subject.pk) if subject is not None else None
        try:
            if subject is not None:
                rules.ensure_recordable(subject)
                rules.ensure_not_restricted(subject)
            rules.ensure_not_suppressed(purpose, suppressed=e164 in suppressed)
            rules.ensure_consented(purpose, current_action=event.action if event else None)
        except ValidationError as refusal:
            first = refusal.error_list[0]
            answers[e164] = ConsentCheck(
                e164, False, first.code or "refused", refusal.messages[0], event
            )
            continue
        reason = "consented" if purpose.requires_consent else "no_consent_needed"
        answers[e164] = ConsentCheck(e164, True, reason, "", event)
    return [answers[e164] for e164 in e164s]


def may_message(organisation, phone, purpose) -> tuple[bool, str]:
    """The consent check for one number (a PhoneNumber or text in any format): (True, "") or
    (False, the reason, from consents.rules). See consent_checks."""
    e164 = _e164(organisation, phone)
    if e164 is None:
        try:
            rules.ensure_consented(purpose, current_action=None)
        except ValidationError as refusal:
            return False, refusal.messages[0]
        return True, ""
    check = consent_checks(organisation, [e164], purpose)[0]
    return check.allowed, check.message


def subject_search(organisation, query: str):
    """Search by name, or by phone typed in any format ('600 12 34 56', '+34…', '0034…').

    Blocked and purged people are not found (LOPDGDD Art. 32): their data is kept only for
    courts and authorities."""
    subjects = DataSubject.objects.filter(organisation=organisation).visible()
    query = (query or "").strip()
    if not query:
        return subjects
    phone = try_parse_phone(query, organisation.country)
    if phone is not None:
        return subjects.filter(phone=phone)
    return subjects.filter(Q(full_name__icontains=query) | Q(external_ref=query))


def subject_overview(subject):
    """Current state per purpose (including never asked) and the timeline, oldest last."""
    states = {
        s.purpose_id: s
        for s in ConsentState.objects.filter(subject=subject).select_related(
            "event", "event__notice_version"
        )
    }
    purposes = Purpose.objects.filter(organisation=subject.organisation_id).order_by("name")
    rows = [(purpose, states.get(purpose.pk)) for purpose in purposes]
    timeline = (
        ConsentEvent.objects.filter(subject=subject)
        .select_related("purpose", "recorded_by", "notice_version", "proof", "confirms")
        .prefetch_related("proof__files")
        .order_by("-sequence")
    )
    return rows, timeline


def superseded_consents(organisation):
    """Granted consents given under a notice version a newer one has replaced (ask again)."""
    current = {}
    for notice in (
        NoticeVersion.objects.filter(organisation=organisation)
        .published()
        .prefetch_related("purposes")
    ):
        for purpose in notice.purposes.all():
            key = (purpose.pk, notice.language)
            if key not in current or (notice.published_at, notice.pk) > current[key][0]:
                current[key] = ((notice.published_at, notice.pk), notice.pk)
    states = (
        ConsentState.objects.filter(organisation=organisation, action=Action.GRANTED)
        .exclude(event__notice_version=None)
        .filter(of_visible_subjects())
        .select_related("subject", "purpose", "event__notice_version")
        .order_by("purpose__name", "subject__full_name")
    )
    for state in states.iterator(chunk_size=2000):
        notice = state.event.notice_version
        latest = current.get((state.purpose_id, notice.language))
        if latest and latest[1] != notice.pk:
            yield state


def events_since_check(organisation, check) -> int:
    """How many events the ledger holds beyond ``check`` (its latest IntegrityCheck, or None:
    0). A stored check speaks for the chain as it stood then, so "OK · 821 events" is not read
    as covering a ledger of 829."""
    if check is None:
        return 0
    head = LedgerHead.objects.filter(organisation=organisation).values_list("sequence", flat=True)
    return max(0, (head.first() or 0) - check.head_sequence)


def dashboard_figures(organisation):
    by_kind = dict(
        DataSubject.objects.filter(organisation=organisation)
        .visible()
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    granted = dict(
        ConsentState.objects.filter(organisation=organisation, action=Action.GRANTED)
        .filter(of_visible_subjects())
        .values_list("purpose")
        .annotate(n=Count("id"))
        .values_list("purpose", "n")
    )
    coverage = [
        (purpose, granted.get(purpose.pk, 0))
        for purpose in Purpose.objects.filter(organisation=organisation, active=True).order_by(
            "name"
        )
    ]
    week_ago = timezone.now() - timedelta(days=7)
    this_week = dict(
        ConsentEvent.objects.filter(organisation=organisation, captured_at__gte=week_ago)
        .values_list("action")
        .annotate(n=Count("id"))
        .values_list("action", "n")
    )
    last_check = organisation.integrity_checks.first()
    return {
        "subject_count": sum(by_kind.values()),
        # A purpose for one kind of person (employees, say) is measured against that kind.
        "subject_count_by_kind": by_kind,
        "coverage": coverage,
        "events_this_week": [(label, this_week.get(value, 0)) for value, label in Action.choices],
        "last_check": last_check,
        # Submissions on a poster or an invite that wait for the person (consents.rules).
        "unconfirmed_pending": UnconfirmedAnswer.objects.filter(
            organisation=organisation, status=UnconfirmedAnswer.Status.PENDING
        )
        .filter(of_visible_subjects())
        .count(),
        "events_since_check": events_since_check(organisation, last_check),
    }


@dataclass
class PublicChoice:
    """One purpose as a person sees it on their consent page (templates/consents/public/)."""

    purpose: Purpose
    notice: NoticeVersion | None
    state: ConsentState | None = None

    @property
    def granted(self) -> bool:
        return self.state is not None and self.state.action == Action.GRANTED

    @property
    def awaiting_confirmation(self) -> bool:
        """Staff logged the person's consent; the person has not confirmed it yet."""
        return self.granted and not self.state.event.by_subject

    @property
    def can_tick(self) -> bool:
        return not self.granted or self.awaiting_confirmation


def public_choices(*, link, language: str, subject=None) -> list[PublicChoice]:
    """The link's purposes (and any other purpose the person has granted, so that they can
    withdraw it too) with the notice in their language and, for a personal link, their state."""
    offered = link.purposes.filter(active=True)
    if subject is not None:
        # A personal link made before a purpose was limited to one kind of person keeps it;
        # the person is still offered only what fits them (consents.rules.ensure_fits).
        offered = offered.filter(audience__in=["", subject.kind])
    purposes = {p.pk: p for p in offered}
    states = {}
    if subject is not None:
        states = {
            s.purpose_id: s
            for s in ConsentState.objects.filter(subject=subject).select_related("purpose", "event")
        }
        for state in states.values():
            if state.action == Action.GRANTED:
                purposes.setdefault(state.purpose_id, state.purpose)
    ordered = sorted(purposes.values(), key=lambda p: (p.name, p.pk))
    return [
        PublicChoice(p, NoticeVersion.objects.to_show(p, language), states.get(p.pk))
        for p in ordered
    ]
