"""Every write on the consent register. The only module that appends to the ledger.

GDPR Art. 7(1): the controller must be able to demonstrate consent. Each append records who,
when, how, what the person was told and the proof, and is chained to the one before it.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Organisation, User
from accounts.services import audit_record, version_publish

from . import chain
from .models import (
    GENESIS_HASH,
    Action,
    Channel,
    ConsentEvent,
    ConsentLink,
    ConsentState,
    DataSubject,
    GivenBy,
    IntegrityCheck,
    LedgerHead,
    NoticeVersion,
    Proof,
    ProofFile,
    Purpose,
)
from .uploads import InspectedUpload


@dataclass(frozen=True)
class Decision:
    """What the person decided for one purpose, and the notice version they were shown."""

    purpose: Purpose
    action: str
    notice: NoticeVersion | None = None


# --- subjects -------------------------------------------------------------------------------


def subject_find_or_create(
    *,
    organisation: Organisation,
    phone,
    full_name: str,
    kind: str = DataSubject.Kind.CUSTOMER,
    email: str = "",
    preferred_language: str | None = None,
    is_minor: bool = False,
    guardian_name: str = "",
) -> tuple[DataSubject, bool]:
    """One subject per phone number per organisation: capture finds the existing one.

    An existing subject keeps its identity (rectification is its own, audited, act); only empty
    fields are filled in.
    """
    subject = DataSubject.objects.filter(organisation=organisation, phone=phone).first()
    if subject is not None:
        if subject.status == DataSubject.Status.BLOCKED:
            raise ValidationError(
                _("This person's data is blocked (erasure requested): nothing can be recorded.")
            )
        changed = False
        for field, value in (("email", email), ("guardian_name", guardian_name)):
            if value and not getattr(subject, field):
                setattr(subject, field, value)
                changed = True
        if is_minor and not subject.is_minor:
            subject.is_minor = True
            changed = True
        if changed:
            subject.full_clean()
            subject.save()
        return subject, False
    subject = DataSubject(
        organisation=organisation,
        phone=phone,
        full_name=full_name.strip(),
        kind=kind,
        email=email.strip(),
        preferred_language=preferred_language or organisation.default_language,
        is_minor=is_minor,
        guardian_name=guardian_name.strip(),
    )
    subject.full_clean()
    subject.save()
    return subject, True


# --- proofs ---------------------------------------------------------------------------------


def proof_create(
    *,
    organisation: Organisation,
    subject: DataSubject,
    quote: str = "",
    note: str = "",
    files: list[InspectedUpload] = (),
    created_by: User | None = None,
    stored: list[str] | None = None,
) -> Proof | None:
    """Store what shows the act. Files arrive already inspected (consents.uploads).

    The names of files written to storage are appended to ``stored`` so that a caller whose
    transaction fails can remove them: storage does not roll back with the database.
    """
    quote, note = quote.strip(), note.strip()
    if not (quote or note or files):
        return None
    proof = Proof.objects.create(
        organisation=organisation, subject=subject, quote=quote, note=note, created_by=created_by
    )
    for upload in files:
        record = ProofFile(
            organisation=organisation,
            proof=proof,
            original_name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )
        record.file.save(upload.name, ContentFile(upload.content), save=False)
        if stored is not None:
            stored.append(record.file.name)
        record.save()
    return proof


@dataclass
class CaptureResult:
    subject: DataSubject
    events: list[ConsentEvent]
    subject_created: bool
    replayed: bool = False


def consent_capture(
    *,
    organisation: Organisation,
    recorded_by: User | None,
    phone,
    full_name: str,
    kind: str,
    decisions: list[Decision],
    channel: str,
    captured_at: datetime | None = None,
    email: str = "",
    preferred_language: str | None = None,
    is_minor: bool = False,
    guardian_name: str = "",
    quote: str = "",
    note: str = "",
    files: list[InspectedUpload] = (),
    idempotency_key: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    by_subject: bool = False,
) -> CaptureResult:
    """Staff capture at first contact: find or create the person, keep the proof, append events.

    LOPDGDD Art. 7: under 14, the parent or guardian is the one who consents; their name is kept
    with the subject (personal data) and the events record that a guardian gave the answer.
    """
    if is_minor and not guardian_name.strip():
        raise ValidationError(
            _("Under 14, the parent or guardian consents: enter their name (LOPDGDD Art. 7).")
        )
    stored: list[str] = []
    try:
        with transaction.atomic():
            _lock_head(organisation)
            if idempotency_key:
                existing = list(
                    ConsentEvent.objects.filter(
                        organisation=organisation, idempotency_key=idempotency_key
                    ).order_by("sequence")
                )
                if existing:
                    return CaptureResult(existing[0].subject, existing, False, replayed=True)
            subject, created = subject_find_or_create(
                organisation=organisation,
                phone=phone,
                full_name=full_name,
                kind=kind,
                email=email,
                preferred_language=preferred_language,
                is_minor=is_minor,
                guardian_name=guardian_name,
            )
            proof = proof_create(
                organisation=organisation,
                subject=subject,
                quote=quote,
                note=note,
                files=files,
                created_by=recorded_by,
                stored=stored,
            )
            events = consent_record(
                organisation=organisation,
                subject=subject,
                decisions=decisions,
                channel=channel,
                captured_at=captured_at,
                recorded_by=recorded_by,
                by_subject=by_subject,
                given_by=GivenBy.GUARDIAN if is_minor else GivenBy.SUBJECT,
                proof=proof,
                ip_address=ip_address,
                user_agent=user_agent,
                idempotency_key=idempotency_key,
            )
    except BaseException:
        # Nothing is kept from a failed capture: no row (rolled back) and no file (removed here).
        for name in stored:
            ProofFile.file.field.storage.delete(name)
        raise
    return CaptureResult(subject, events, created)


# --- the ledger -----------------------------------------------------------------------------


def _lock_head(organisation: Organisation) -> LedgerHead:
    # Lock the chain head: two writers would otherwise both link to the same prev_hash and fork
    # the chain (or take the same sequence). On SQLite the IMMEDIATE transaction serialises writers.
    head = LedgerHead.objects.select_for_update().filter(organisation=organisation).first()
    if head is None:
        LedgerHead.objects.get_or_create(organisation=organisation)
        head = LedgerHead.objects.select_for_update().get(organisation=organisation)
    return head


def _check_decision(decision: Decision, organisation: Organisation) -> None:
    purpose = decision.purpose
    if purpose.organisation_id != organisation.pk:
        raise ValidationError(_("Unknown purpose."))
    if decision.action not in Action.values:
        raise ValidationError(_("Unknown action."))
    notice = decision.notice
    if notice is not None:
        if notice.organisation_id != organisation.pk or not notice.is_published:
            raise ValidationError(_("Only a published notice can be shown to a person."))
        if not notice.purposes.filter(pk=purpose.pk).exists():
            raise ValidationError(
                _("Notice “%(notice)s” does not cover the purpose “%(purpose)s”.")
                % {"notice": notice, "purpose": purpose}
            )
    if decision.action == Action.GRANTED:
        if not purpose.active:
            raise ValidationError(
                _("The purpose “%(purpose)s” is no longer active.") % {"purpose": purpose}
            )
        if purpose.requires_consent and notice is None:
            raise ValidationError(
                _(
                    "No published notice covers “%(purpose)s”: a person cannot consent without"
                    " being informed (GDPR Art. 13)."
                )
                % {"purpose": purpose}
            )


@dataclass(frozen=True)
class Append:
    """One act of one person, for one or more purposes: what consent_record_many appends."""

    subject: DataSubject
    decisions: list[Decision]
    channel: str
    captured_at: datetime | None = None
    recorded_by: User | None = None
    by_subject: bool = False
    given_by: str = GivenBy.SUBJECT
    proof: Proof | None = None
    ip_address: str | None = None
    user_agent: str = ""
    idempotency_key: str = ""
    confirms: ConsentEvent | None = None


def _check_append(append: Append, organisation: Organisation, now, covered: dict) -> None:
    if not append.decisions:
        raise ValidationError(_("Choose at least one purpose."))
    subject = append.subject
    if subject.organisation_id != organisation.pk:
        raise ValidationError(_("Unknown person."))
    if subject.status == DataSubject.Status.BLOCKED:
        raise ValidationError(
            _("This person's data is blocked (erasure requested): nothing can be recorded.")
        )
    if append.channel not in Channel.values:
        raise ValidationError(_("Choose how the person gave their answer."))
    if append.given_by not in GivenBy.values:
        raise ValidationError(_("Unknown consenting person."))
    if len({d.purpose.pk for d in append.decisions}) != len(append.decisions):
        raise ValidationError(_("Each purpose can be answered once per capture."))
    if (append.captured_at or now) > now + timezone.timedelta(minutes=5):
        raise ValidationError(_("The moment the person acted cannot be in the future."))
    for decision in append.decisions:
        # A batch names the same few (notice, purpose) pairs again and again: check each once.
        key = (decision.purpose.pk, decision.action, decision.notice.pk if decision.notice else 0)
        if key not in covered:
            _check_decision(decision, organisation)
            covered[key] = True


@transaction.atomic
def consent_record_many(
    *, organisation: Organisation, appends: list[Append]
) -> list[list[ConsentEvent]]:
    """Append every act of ``appends`` in order, atomically: all of them or none.

    The one place ledger rows are written (consent_record is this with one act). It takes the
    organisation's chain head once, chains each event to the one before it, writes the events
    and the derived ConsentState in bulk, and moves the head. An act whose idempotency key was
    already recorded is not recorded again: its earlier events are returned in its place.
    Returns the events of each act, in the order given.
    """
    now = timezone.now()
    covered: dict = {}
    for append in appends:
        _check_append(append, organisation, now, covered)

    head = _lock_head(organisation)
    # Checked under the head lock: two submissions of one form cannot both pass this test.
    keys = [a.idempotency_key for a in appends if a.idempotency_key]
    existing: dict[str, list[ConsentEvent]] = {}
    if keys:
        for event in ConsentEvent.objects.filter(
            organisation=organisation, idempotency_key__in=keys
        ).order_by("sequence"):
            existing.setdefault(event.idempotency_key, []).append(event)

    results: list[list[ConsentEvent]] = []
    new_events: list[ConsentEvent] = []
    for append in appends:
        if append.idempotency_key in existing:
            results.append(existing[append.idempotency_key])
            continue
        subject = append.subject
        subject_hmac = chain.identifiers_hmac(subject.identifiers())
        proof_digests = append.proof.digests() if append.proof else []
        recorded = []
        for decision in append.decisions:
            event = ConsentEvent(
                organisation=organisation,
                sequence=head.sequence + 1,
                subject=subject,
                purpose=decision.purpose,
                action=decision.action,
                channel=append.channel,
                captured_at=append.captured_at or now,
                recorded_at=now,
                recorded_by=append.recorded_by,
                by_subject=append.by_subject,
                given_by=append.given_by,
                notice_version=decision.notice,
                notice_sha256=decision.notice.sha256 if decision.notice else "",
                proof=append.proof,
                proof_digests=proof_digests,
                ip_address=append.ip_address or None,
                user_agent=(append.user_agent or "")[:400],
                confirms=append.confirms,
                subject_hmac=subject_hmac,
                idempotency_key=append.idempotency_key,
                prev_hash=head.hash,
            )
            event.hash = chain.event_hash(event.prev_hash, event.canonical())
            head.sequence, head.hash = event.sequence, event.hash
            recorded.append(event)
        if append.idempotency_key:
            existing[append.idempotency_key] = recorded  # the same key twice in one batch
        new_events.extend(recorded)
        results.append(recorded)
    if not new_events:
        return results

    ConsentEvent.objects.bulk_create(new_events, batch_size=1000)
    _states_follow(organisation, new_events)
    head.save(update_fields=["sequence", "hash"])
    return results


def _states_follow(organisation: Organisation, events: list[ConsentEvent]) -> None:
    """ConsentState (invariant 5): each (subject, purpose) points at its latest event."""
    latest: dict[tuple[int, int], ConsentEvent] = {}
    for event in events:
        latest[(event.subject_id, event.purpose_id)] = event
    subject_ids = {s for s, _p in latest}
    purpose_ids = {p for _s, p in latest}
    # Writers of one organisation are serialised by the head lock, so read-then-write is safe.
    current = {
        (state.subject_id, state.purpose_id): state
        for state in ConsentState.objects.filter(
            subject_id__in=subject_ids, purpose_id__in=purpose_ids
        )
        if (state.subject_id, state.purpose_id) in latest
    }
    changed, created = [], []
    for key, event in latest.items():
        state = current.get(key) or ConsentState(
            organisation=organisation, subject_id=key[0], purpose_id=key[1]
        )
        state.event, state.action, state.captured_at = event, event.action, event.captured_at
        (changed if state.pk else created).append(state)
    if changed:
        ConsentState.objects.bulk_update(
            changed, ["event", "action", "captured_at"], batch_size=1000
        )
    if created:
        ConsentState.objects.bulk_create(created, batch_size=1000)


def consent_record(
    *,
    organisation: Organisation,
    subject: DataSubject,
    decisions: list[Decision],
    channel: str,
    captured_at: datetime | None = None,
    recorded_by: User | None = None,
    by_subject: bool = False,
    given_by: str = GivenBy.SUBJECT,
    proof: Proof | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    idempotency_key: str = "",
    confirms: ConsentEvent | None = None,
) -> list[ConsentEvent]:
    """Append one event per purpose, atomically: all of them or none.

    GDPR Art. 4(11) and EDPB 05/2020: consent is specific, so each purpose is its own event.
    The same ``idempotency_key`` (one per capture form) records once: a double tap or a retry
    returns the events already recorded.
    """
    (events,) = consent_record_many(
        organisation=organisation,
        appends=[
            Append(
                subject=subject,
                decisions=decisions,
                channel=channel,
                captured_at=captured_at,
                recorded_by=recorded_by,
                by_subject=by_subject,
                given_by=given_by,
                proof=proof,
                ip_address=ip_address,
                user_agent=user_agent,
                idempotency_key=idempotency_key,
                confirms=confirms,
            )
        ],
    )
    return events


def consent_withdraw(
    *,
    organisation: Organisation,
    subject: DataSubject,
    purpose: Purpose,
    channel: str,
    recorded_by: User | None = None,
    by_subject: bool = False,
    ip_address: str | None = None,
    user_agent: str = "",
    captured_at: datetime | None = None,
) -> ConsentEvent:
    """GDPR Art. 7(3): withdrawal is as easy as giving: one call, one event, no reason asked."""
    with transaction.atomic():
        state = ConsentState.objects.filter(subject=subject, purpose=purpose).first()
        if state is None or state.action != Action.GRANTED:
            raise ValidationError(
                _("%(name)s has no consent to withdraw for “%(purpose)s”.")
                % {"name": subject.full_name, "purpose": purpose.name}
            )
        (event,) = consent_record(
            organisation=organisation,
            subject=subject,
            decisions=[Decision(purpose=purpose, action=Action.WITHDRAWN)],
            channel=channel,
            captured_at=captured_at,
            recorded_by=recorded_by,
            by_subject=by_subject,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return event


# --- notices --------------------------------------------------------------------------------


def _notice_ready(notice: NoticeVersion) -> None:
    if not notice.purposes.exists():
        raise ValidationError(_("A notice must cover at least one purpose."))
    if not notice.text.strip() or not notice.summary.strip():
        raise ValidationError(_("A notice needs a summary and a full text."))


def notice_publish(
    *, notice: NoticeVersion, published_by: User | None = None, request=None
) -> NoticeVersion:
    """Freeze the text and its SHA-256 (invariant 4: what the person was told is frozen).

    Earlier versions for the same purposes become superseded. Who published it is audited.
    """
    return version_publish(
        version=notice, published_by=published_by, request=request, require=_notice_ready
    )


def notice_update_draft(
    *,
    notice: NoticeVersion,
    data: dict,
    purposes,
    changed_by: User | None = None,
    request=None,
) -> NoticeVersion:
    """Create or edit a draft notice; a published one is frozen (invariant 4). Audited
    (invariant 6): notices keep no django-simple-history, so the draft's story is told here."""
    if notice.is_published:
        raise ValidationError(notice.frozen_message)
    created = notice.pk is None
    before = {} if created else NoticeVersion.objects.filter(pk=notice.pk).values(*data).first()
    for field, value in data.items():
        setattr(notice, field, value)
    notice.full_clean()
    with transaction.atomic():
        notice.save()
        notice.purposes.set(purposes)
        changes = [
            {"field": field, "old": _shown(before.get(field)), "new": _shown(value)}
            for field, value in data.items()
            if created or before.get(field) != value
        ]
        if created or changes:
            audit_record(
                organisation=notice.organisation,
                user=changed_by,
                request=request,
                register=NoticeVersion,
                action=AuditEntry.Action.CREATED if created else AuditEntry.Action.CHANGED,
                object_id=notice.pk,
                object_repr=str(notice),
                details=[] if created else changes,
            )
    return notice


def _shown(value) -> str:
    return "" if value is None else str(value)[:500]


# --- verification ---------------------------------------------------------------------------


@dataclass
class VerificationResult:
    ok: bool
    events_checked: int
    head_sequence: int
    head_hash: str
    broken_sequence: int | None = None
    reason: str = ""


def ledger_verify_chain(
    *, organisation: Organisation, batch_size: int = 5000
) -> VerificationResult:
    """Recompute the chain from the first event and name the first broken sequence, if any."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events = (
        ConsentEvent.objects.filter(organisation=organisation)
        .order_by("sequence")
        .iterator(chunk_size=batch_size)
    )
    for event in events:
        if event.sequence != expected_sequence:
            return VerificationResult(
                False,
                checked,
                expected_sequence - 1,
                expected_prev,
                expected_sequence,
                _("Event %(n)s is missing: the next event found is %(found)s.")
                % {"n": expected_sequence, "found": event.sequence},
            )
        if event.prev_hash != expected_prev:
            return VerificationResult(
                False,
                checked,
                expected_sequence - 1,
                expected_prev,
                event.sequence,
                _("Event %(n)s does not link to the hash of the event before it.")
                % {"n": event.sequence},
            )
        recomputed = chain.event_hash(event.prev_hash, event.canonical())
        if recomputed != event.hash:
            return VerificationResult(
                False,
                checked,
                expected_sequence - 1,
                expected_prev,
                event.sequence,
                _("Event %(n)s was altered: its content no longer matches its hash.")
                % {"n": event.sequence},
            )
        expected_prev = event.hash
        expected_sequence += 1
        checked += 1
    head = LedgerHead.objects.filter(organisation=organisation).first()
    if head is not None and (head.sequence != checked or head.hash != expected_prev):
        return VerificationResult(
            False,
            checked,
            checked,
            expected_prev,
            checked + 1,
            _("The chain ends at %(n)s but the recorded head is %(head)s: events were removed.")
            % {"n": checked, "head": head.sequence},
        )
    return VerificationResult(True, checked, checked, expected_prev)


def ledger_verify(*, organisation: Organisation, triggered_by: str = "") -> IntegrityCheck:
    """Verify and keep the result (shown on the dashboard and the Ledger integrity page)."""
    started = time.monotonic()
    result = ledger_verify_chain(organisation=organisation)
    return IntegrityCheck.objects.create(
        organisation=organisation,
        ok=result.ok,
        events_checked=result.events_checked,
        head_sequence=result.head_sequence,
        head_hash=result.head_hash,
        broken_sequence=result.broken_sequence,
        reason=result.reason,
        duration_ms=int((time.monotonic() - started) * 1000),
        triggered_by=triggered_by[:60],
    )


@transaction.atomic
def consent_state_rebuild(*, organisation: Organisation) -> int:
    """Recompute ConsentState from the ledger (invariant 5). Returns the number of rows."""
    latest: dict[tuple[int, int], ConsentEvent] = {}
    for event in (
        ConsentEvent.objects.filter(organisation=organisation)
        .order_by("sequence")
        .only("pk", "subject_id", "purpose_id", "action", "captured_at", "sequence")
        .iterator(chunk_size=5000)
    ):
        latest[(event.subject_id, event.purpose_id)] = event
    ConsentState.objects.filter(organisation=organisation).delete()
    ConsentState.objects.bulk_create(
        [
            ConsentState(
                organisation=organisation,
                subject_id=subject_id,
                purpose_id=purpose_id,
                event_id=event.pk,
                action=event.action,
                captured_at=event.captured_at,
            )
            for (subject_id, purpose_id), event in latest.items()
        ],
        batch_size=2000,
    )
    return len(latest)


# --- self-service consent links -------------------------------------------------------------


def consent_link_create(
    *,
    organisation: Organisation,
    created_by: User | None,
    subject: DataSubject | None = None,
    purposes: list[Purpose] | None = None,
    days: int | None = None,
    label: str = "",
) -> ConsentLink:
    """A link the person opens to consent, confirm or withdraw themself (GDPR Art. 7(1), 7(3)).

    With ``subject``, a personal link (default purposes: every active purpose of the
    organisation); without, a generic link for posters, which needs its purposes.
    """
    if subject is not None:
        if subject.organisation_id != organisation.pk:
            raise ValidationError(_("Unknown person."))
        if subject.status == DataSubject.Status.BLOCKED:
            raise ValidationError(
                _("This person's data is blocked (erasure requested): nothing can be recorded.")
            )
    if purposes is None and subject is not None:
        purposes = list(Purpose.objects.filter(organisation=organisation, active=True))
    purposes = list(purposes or [])
    if not purposes:
        raise ValidationError(_("Choose at least one purpose."))
    if any(p.organisation_id != organisation.pk or not p.active for p in purposes):
        raise ValidationError(_("Unknown purpose."))
    days = settings.CONSENT_LINK_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError(_("A link is valid for 1 to 366 days."))
    now = timezone.now()
    link = ConsentLink(
        organisation=organisation,
        kind=ConsentLink.Kind.PERSONAL if subject else ConsentLink.Kind.GENERIC,
        subject=subject,
        label=label.strip()[:120],
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    link.full_clean()
    with transaction.atomic():
        link.save()
        link.purposes.set(purposes)
    return link


def consent_link_for_subject(*, subject: DataSubject, created_by: User | None) -> ConsentLink:
    """The person's active personal link, or a new one: one link to send, not one per send."""
    link = (
        ConsentLink.objects.active()
        .filter(subject=subject, kind=ConsentLink.Kind.PERSONAL)
        .order_by("-created_at")
        .first()
    )
    return link or consent_link_create(
        organisation=subject.organisation, created_by=created_by, subject=subject
    )


def consent_link_revoke(
    *, link: ConsentLink, revoked_by: User | None = None, request=None
) -> ConsentLink:
    """The link stops working at once (a lost phone, a poster taken down). Events stay.

    Who revoked it, when and from where goes to the audit trail (invariant 6).
    """
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            organisation=link.organisation,
            user=revoked_by,
            request=request,
            register=ConsentLink,
            action=AuditEntry.Action.REVOKED,
            object_id=link.pk,
            object_repr=str(link)[:200],
            details=[{"field": "revoked_at", "old": "", "new": link.revoked_at.isoformat()}],
        )
    return link


def _link_usable(link: ConsentLink) -> None:
    if not link.is_active:
        raise ValidationError(_("This link is no longer valid."), code="link_inactive")


@transaction.atomic
def public_consent_submit(
    *,
    link: ConsentLink,
    decisions: list[Decision],
    language: str,
    full_name: str | None = None,
    phone: str | None = None,
    ip_address: str | None,
    user_agent: str,
    channel: str = Channel.WEB_FORM,
) -> list[ConsentEvent]:
    """The person ticks purposes on their link: one granted event per purpose, by the person.

    GDPR Art. 4(11) and 7(1): a clear affirmative act (nothing pre-ticked), per purpose, with the
    notice version shown in their language, their IP address and browser as proof. On a personal
    link a purpose staff logged (by_subject=False) is confirmed instead: a granted event that
    ``confirms`` the staff event (double opt-in). A purpose already granted by the person records
    nothing. A generic link finds or creates the person by the phone typed and never tells the
    visitor whether the number was known; a blocked person records nothing, silently.
    """
    from .phones import parse_phone
    from .selectors import notice_to_show

    _link_usable(link)
    organisation = link.organisation
    if not decisions:
        raise ValidationError(_("Tick at least one purpose."))
    allowed = set(link.purposes.values_list("pk", flat=True))
    subject = link.subject
    if subject is not None:
        allowed |= set(
            ConsentState.objects.filter(subject=subject, action=Action.GRANTED).values_list(
                "purpose_id", flat=True
            )
        )
    for decision in decisions:
        if decision.purpose.pk not in allowed or decision.action != Action.GRANTED:
            raise ValidationError(_("Unknown purpose."))
    if subject is None:
        if not (full_name or "").strip():
            raise ValidationError({"full_name": _("Enter your full name.")})
        try:
            number = parse_phone(phone or "", organisation.country)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from None
        subject = DataSubject.objects.filter(organisation=organisation, phone=number).first()
        if subject is not None and subject.status == DataSubject.Status.BLOCKED:
            return []
        if subject is None:
            subject, _created = subject_find_or_create(
                organisation=organisation,
                phone=number,
                full_name=full_name,
                preferred_language=language,
            )
    states = {
        s.purpose_id: s
        for s in ConsentState.objects.filter(subject=subject).select_related("event")
    }
    record = {
        "organisation": organisation,
        "subject": subject,
        "channel": channel,
        "by_subject": True,
        "recorded_by": None,
        "ip_address": ip_address,
        "user_agent": user_agent,
    }
    fresh, events = [], []
    for decision in decisions:
        notice = decision.notice or notice_to_show(decision.purpose, language)
        state = states.get(decision.purpose.pk)
        chosen = Decision(purpose=decision.purpose, action=Action.GRANTED, notice=notice)
        if state is None or state.action != Action.GRANTED:
            fresh.append(chosen)
        elif link.subject_id and not state.event.by_subject:
            # Only the person's own link confirms: a poster's visitor could type anyone's number.
            events += consent_record(decisions=[chosen], confirms=state.event, **record)
    if fresh:
        events += consent_record(decisions=fresh, **record)
    link.last_used_at = timezone.now()
    link.save(update_fields=["last_used_at"])
    return events


def public_withdraw(
    *,
    link: ConsentLink,
    purpose: Purpose,
    ip_address: str | None,
    user_agent: str,
    channel: str = Channel.WEB_FORM,
) -> ConsentEvent:
    """GDPR Art. 7(3): one click on their personal link withdraws, as easily as it was given."""
    _link_usable(link)
    if link.subject is None or purpose.organisation_id != link.organisation_id:
        raise ValidationError(_("Unknown purpose."))
    with transaction.atomic():
        event = consent_withdraw(
            organisation=link.organisation,
            subject=link.subject,
            purpose=purpose,
            channel=channel,
            by_subject=True,
            ip_address=ip_address,
            user_agent=user_agent,
        )
        link.last_used_at = timezone.now()
        link.save(update_fields=["last_used_at"])
    return event
