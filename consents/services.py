"""Every write on the consent register. The only module that appends to the ledger.

GDPR Art. 7(1): the controller must be able to demonstrate consent. Each append records who,
when, how, what the person was told and the proof, and is chained to the one before it. What is
checked before anything is written lives in consents.rules; what travels from a form to the
ledger is one consents.acts.ConsentAct.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Organisation, User
from accounts.services import audit_record, version_publish

from . import appends, chain, checkpoints, phones, rules, selectors, signals
from .acts import ConsentAct, Decision, PersonDetails, ProofInput
from .models import (
    GENESIS_HASH,
    Action,
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
    PurposeCategory,
    SubjectStatus,
    SuppressedNumber,
    UnconfirmedAnswer,
)
from .uploads import InspectedUpload

# --- subjects -------------------------------------------------------------------------------


def subject_find_or_create(
    *, organisation: Organisation, person: PersonDetails
) -> tuple[DataSubject, bool]:
    """One subject per phone number per organisation: capture finds the existing one.

    An existing subject keeps its identity (rectification is its own, audited, act); only empty
    fields are filled in. A blocked person is refused (consents.rules.ensure_recordable).
    """
    subject = DataSubject.objects.filter(organisation=organisation, phone=person.phone).first()
    if subject is not None:
        subject.ensure_recordable()
        changed = False
        for name, value in (("email", person.email), ("guardian_name", person.guardian_name)):
            if value and not getattr(subject, name):
                setattr(subject, name, value.strip())
                changed = True
        if person.is_minor and not subject.is_minor:
            subject.is_minor = True
            changed = True
        if changed:
            subject.full_clean()
            subject.save()
        return subject, False
    subject = DataSubject(
        organisation=organisation,
        phone=person.phone,
        full_name=person.full_name.strip(),
        kind=person.kind or DataSubject.Kind.CUSTOMER,
        email=person.email.strip(),
        preferred_language=person.preferred_language or organisation.default_language,
        is_minor=person.is_minor,
        guardian_name=person.guardian_name.strip(),
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

    GDPR Art. 7(1), demonstrate consent: each file is stored as the person sent it, GPS removed
    (Art. 5(1)(c)), with its SHA-256, which Proof.digests() puts in the ledger; a HEIC photo
    also gets its JPEG rendition, stored beside it under a random name of its own.

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
            rendition_sha256=upload.rendition_sha256,
        )
        record.file.save(upload.name, ContentFile(upload.content), save=False)
        if stored is not None:
            stored.append(record.file.name)
        if upload.rendition is not None:
            record.rendition.save(record.rendition_name, ContentFile(upload.rendition), save=False)
            if stored is not None:
                stored.append(record.rendition.name)
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
    person: PersonDetails,
    act: ConsentAct,
    proof: ProofInput | None = None,
) -> CaptureResult:
    """Staff capture at first contact: find or create the person, keep the proof, append events,
    all or nothing. The same idempotency key twice (a double tap, a retried API call) records
    once: the second answers with the first's events (``replayed``), keeping nothing of its own,
    even when both arrive at the same moment.

    LOPDGDD Art. 7: under 14, the parent or guardian is the one who consents; their name is kept
    with the subject (personal data) and the events record that a guardian gave the answer.
    """
    rules.ensure_guardian(is_minor=person.is_minor, guardian_name=person.guardian_name)
    proof = proof or ProofInput()
    stored: list[str] = []
    try:
        with transaction.atomic():
            if connection.vendor != "postgresql":
                ledger_head_lock(organisation)  # SQLite: writers take turns from the start
            # On PostgreSQL the head is locked only when the events are written, at the end:
            # captures by several staff at once find or create their people and keep their
            # proofs side by side. A key found here is final; one recorded by a concurrent
            # capture meanwhile is found when the events are written (_Replayed, below).
            replayed = _replay(organisation, act.idempotency_key)
            if replayed:
                return CaptureResult(replayed[0].subject, replayed, False, replayed=True)
            subject, created = _capture_subject(organisation, person)
            kept = proof_create(
                organisation=organisation,
                subject=subject,
                quote=proof.quote,
                note=proof.note,
                files=proof.files,
                created_by=act.recorded_by,
                stored=stored,
            )
            events = consent_record(
                organisation=organisation,
                act=act.but(
                    subject=subject,
                    proof=kept,
                    given_by=GivenBy.GUARDIAN if person.is_minor else GivenBy.SUBJECT,
                ),
            )
            if isinstance(events, Replayed):
                raise _Replayed(events)  # undo this capture's person and proof
    except BaseException as error:
        # Nothing is kept from a failed capture: no row (rolled back) and no file (removed here).
        for name in stored:
            ProofFile.file.field.storage.delete(name)
        if isinstance(error, _Replayed):
            # The same capture (its key) was recorded by another request while this one ran:
            # its events are the answer, as if this one had arrived after it.
            return CaptureResult(error.events[0].subject, error.events, False, replayed=True)
        raise
    return CaptureResult(subject, events, created)


class Replayed(list):
    """The events an act's idempotency key was recorded with earlier, returned in its place by
    consent_record_many: nothing new was written for it."""


class _Replayed(Exception):
    def __init__(self, events: list[ConsentEvent]):
        super().__init__("replayed")
        self.events = events


def _capture_subject(organisation: Organisation, person: PersonDetails):
    """subject_find_or_create, for a capture that does not hold the head lock: if another
    capture created the same person (their number) since it looked, that person is the one."""
    try:
        with transaction.atomic():  # a savepoint: the duplicate undoes only this
            return subject_find_or_create(organisation=organisation, person=person)
    except (IntegrityError, ValidationError):
        found = DataSubject.objects.filter(organisation=organisation, phone=person.phone)
        if not found.exists():
            raise
    return subject_find_or_create(organisation=organisation, person=person)


def _replay(organisation: Organisation, idempotency_key: str) -> list[ConsentEvent]:
    """The events recorded earlier under ``idempotency_key``, by sequence (the look-up
    consent_record_many makes of every key)."""
    if not idempotency_key:
        return []
    return appends.events_with_keys(organisation.pk, [idempotency_key])


# --- the ledger -----------------------------------------------------------------------------


def ledger_head_lock(organisation: Organisation) -> LedgerHead:
    """Lock the organisation's chain head until the end of the current transaction.

    Two writers would otherwise both link to the same prev_hash and fork the chain (or take the
    same sequence). On SQLite the IMMEDIATE transaction serialises writers.
    """
    return appends.head_lock(organisation.pk)


# A published notice is frozen (invariant 4), purposes included: which purposes it covers is
# asked of the database once per process, not once per append. Keyed by what identifies the
# published version, so a reused primary key (a test database rolled back) is never confused.
_NOTICE_PURPOSES: dict[tuple, frozenset[int]] = {}
_NOTICE_PURPOSES_MAX = 10_000


def _notice_purposes_known(notice: NoticeVersion | None) -> None:
    if notice is None or getattr(notice, "purpose_ids", None) is not None:
        return
    if not notice.is_published:
        return  # a draft can still change: rules.notice_covers asks the database
    key = (notice.pk, notice.published_at, notice.sha256)
    ids = _NOTICE_PURPOSES.get(key)
    if ids is None:
        ids = frozenset(notice.purposes.values_list("pk", flat=True))
        if len(_NOTICE_PURPOSES) >= _NOTICE_PURPOSES_MAX:
            _NOTICE_PURPOSES.clear()
        _NOTICE_PURPOSES[key] = ids
    notice.purpose_ids = ids


def _check_acts(organisation: Organisation, acts: list[ConsentAct], now) -> None:
    """consents.rules, for every act and decision. A batch names the same few (purpose, action,
    notice) triples again and again: each is checked once."""
    checked: set = set()
    for act in acts:
        rules.check_act(act, organisation.pk, now=now)
        for decision in act.decisions:
            key = (
                decision.purpose.pk,
                decision.action,
                decision.notice.pk if decision.notice else 0,
            )
            if key not in checked:
                _notice_purposes_known(decision.notice)
                rules.check_decision(decision, organisation.pk)
                checked.add(key)
    _check_suppressed(organisation, acts)


def _grants_marketing(act: ConsentAct) -> bool:
    return any(
        d.action == Action.GRANTED and d.purpose.category == PurposeCategory.MARKETING
        for d in act.decisions
    )


def _check_suppressed(organisation: Organisation, acts: list[ConsentAct]) -> None:
    """GDPR Art. 21(3): no marketing grant for a number on the suppression list (one query for
    the whole batch, and none when nothing in it grants marketing)."""
    numbers = {id(a): phones.e164(a.subject.phone) for a in acts if _grants_marketing(a)}
    marketing = [a for a in acts if numbers.get(id(a))]
    if not marketing:
        return
    suppressed = selectors.suppressed_among(organisation, [numbers[id(a)] for a in marketing])
    if not suppressed:
        return
    for act in marketing:
        for decision in act.decisions:
            if decision.action == Action.GRANTED:
                rules.ensure_not_suppressed(
                    decision.purpose, suppressed=numbers[id(act)] in suppressed
                )


def without_suppressed_marketing(
    *, organisation: Organisation, phone, decisions: list[Decision]
) -> list[Decision]:
    """``decisions`` less the marketing grants a suppressed number may not give (GDPR Art.
    21(3)), for pages that must not tell a visitor whether a number is on the list (a poster, a
    group invite): the grant is quietly not recorded, whatever was typed."""
    if not selectors.is_suppressed(organisation, phone):
        return list(decisions)
    return [
        d
        for d in decisions
        if not (d.action == Action.GRANTED and d.purpose.category == PurposeCategory.MARKETING)
    ]


def consent_record_many(
    *, organisation: Organisation, acts: list[ConsentAct]
) -> list[list[ConsentEvent]]:
    """Append every act of ``acts`` in order, atomically: all of them or none.

    The one place ledger rows are written (consent_record is this with one act). It checks each
    act against the rule book, reads the organisation's chain head, checks what depends on the
    register (a withdrawal needs a consent: GDPR Art. 7(3)), chains each event to the one before
    it, writes the events and the derived ConsentState, and moves the head, which it locks. An
    act whose idempotency key was already recorded is not recorded again: its earlier events are
    returned in its place. Returns the events of each act, in the order given.

    Every append waits for the one before it to commit, so everything that does not depend on
    the head (the rules, the identifiers' HMAC, the act's columns) is done first. On PostgreSQL
    the append is then optimistic: it links to the head this connection last moved (or reads it,
    unlocked), and the write (consents.appends: one statement) moves the head, locking it, only
    if it is still that head; the keys and states read meanwhile were therefore current, just as
    if they had been read under the lock. If another writer moved the head first, the acts are
    decided again under the lock (head_lock), as they always are on SQLite. No fork, no gap:
    the write links to the head it moves, and (organisation, sequence) is unique. Called outside
    any transaction, that one statement is the whole transaction (no BEGIN, no COMMIT); and if
    no act withdraws (nothing but the idempotency keys is read from the register first),
    PostgreSQL numbers and hashes the events itself in that statement, under the lock
    (appends.write_chained), and the unique index on the keys catches a key another writer
    recorded meanwhile.
    """
    now = timezone.now()
    _check_acts(organisation, acts, now)
    prepared = {
        id(act): (act.ledger_fields(now=now), chain.identifiers_hmac(act.subject.identifiers()))
        for act in acts
    }

    if appends.alone(sum(len(a.decisions) for a in acts)):
        if not _withdraws(acts):
            # No state to read first: PostgreSQL chains the events itself, holding the head
            # only while the one statement runs, so concurrent writers queue for a statement,
            # not for a client's round trips.
            results = _append_chained(organisation, acts, prepared)
            if results is not None:
                return results
            # Another writer recorded one of the keys since they were read: nothing was
            # written, and under the lock the act returns that writer's events.
            with transaction.atomic():
                return _append_locked(organisation, acts, prepared)
        # Outside any transaction, the one statement that writes is a transaction of its own:
        # no BEGIN, no COMMIT, one round trip. Nothing is written unless it all is.
        results = _append_optimistic(organisation, acts, prepared)
        if results is not None:
            return results
        with transaction.atomic():
            return _append_locked(organisation, acts, prepared)
    with transaction.atomic():
        results = _append_optimistic(organisation, acts, prepared)
        if results is None:
            results = _append_locked(organisation, acts, prepared)
        return results


def _withdraws(acts: list[ConsentAct]) -> bool:
    """Whether an act withdraws: that needs the consent it takes back (GDPR Art. 7(3)), read
    from the states, which only the head lock (or a head still in place) keeps current."""
    return any(d.action == Action.WITHDRAWN for a in acts for d in a.decisions)


def _append_chained(
    organisation: Organisation, acts: list[ConsentAct], prepared: dict
) -> list[list[ConsentEvent]] | None:
    """The acts appended by one statement that PostgreSQL numbers and hashes under the head
    lock (appends.write_chained), outside any transaction; None if nothing was written because
    an idempotency key, not on record when read, was recorded by another writer meanwhile (the
    unique index ledger_idempotent_capture refuses the statement whole).

    The keys are read first, without the lock: an event on record stays on record, so a key
    found is final (its act returns those events), and one not found is checked again by that
    index when the events are written."""
    results, new_events = _chain(organisation, acts, prepared, head=None)
    if new_events:
        try:
            appends.write_chained(organisation.pk, new_events)
        except IntegrityError as error:
            if appends.duplicate_key(error):
                return None
            raise
    _announce(organisation, new_events)
    return results


def _append_optimistic(
    organisation: Organisation, acts: list[ConsentAct], prepared: dict
) -> list[list[ConsentEvent]] | None:
    """The acts linked to the head as last seen, without waiting for the lock; None if they must
    be decided under it. The write moves the head only if it is still that one, so everything
    read meanwhile (the keys, the states) was current; if it had moved, or the acts failed on
    what was read, nothing is written and the caller decides again on what is certainly
    current."""
    head = appends.head_seen(organisation.pk)
    if head is None:
        return None
    try:
        return _append_after(organisation, acts, prepared, head)
    except (appends.HeadMoved, ValidationError):
        return None


def _append_locked(
    organisation: Organisation, acts: list[ConsentAct], prepared: dict
) -> list[list[ConsentEvent]]:
    """The acts decided and written under the head lock (inside the caller's transaction)."""
    return _append_after(organisation, acts, prepared, ledger_head_lock(organisation))


def _append_after(
    organisation: Organisation, acts: list[ConsentAct], prepared: dict, head: LedgerHead
) -> list[list[ConsentEvent]]:
    """The acts chained after ``head`` and written (appends.write: HeadMoved if it has moved)."""
    results, new_events = _chain(organisation, acts, prepared, head)
    if new_events:
        appends.write(head, new_events)
    _announce(organisation, new_events)
    return results


def _announce(organisation: Organisation, events: list[ConsentEvent]) -> None:
    if events:
        transaction.on_commit(
            lambda: signals.events_recorded.send(
                sender=ConsentEvent, organisation=organisation, events=events
            )
        )


def _chain(
    organisation: Organisation, acts: list[ConsentAct], prepared: dict, head: LedgerHead | None
) -> tuple[list[list[ConsentEvent]], list[ConsentEvent]]:
    """The events of ``acts`` chained after ``head`` (which it moves along), and each act's
    events: those recorded before under its idempotency key (not again), or its new ones. The
    keys and, for a withdrawal, the states are read here: after the head, so that a head still
    in place at the write means they were current. Without a head, the events are left for
    PostgreSQL to number and hash (appends.write_chained)."""
    keys = [a.idempotency_key for a in acts if a.idempotency_key]
    existing: dict[str, list[ConsentEvent]] = {}
    if keys:
        for event in appends.events_with_keys(organisation.pk, keys):
            existing.setdefault(event.idempotency_key, []).append(event)

    fresh = [a for a in acts if a.idempotency_key not in existing]
    current = _actions_before_withdrawals(fresh)
    results: list[list[ConsentEvent]] = []
    new_events: list[ConsentEvent] = []
    for act in acts:
        if act.idempotency_key in existing:
            results.append(Replayed(existing[act.idempotency_key]))
            continue
        common, subject_hmac = prepared[id(act)]
        recorded = []
        for decision in act.decisions:
            key = (act.subject.pk, decision.purpose.pk)
            if decision.action == Action.WITHDRAWN:
                rules.ensure_withdrawable(decision.purpose, current_action=current.get(key))
            event = ConsentEvent(
                organisation=organisation,
                sequence=head.sequence + 1 if head else 0,
                purpose=decision.purpose,
                action=decision.action,
                notice_version=decision.notice,
                notice_sha256=decision.notice.sha256 if decision.notice else "",
                subject_hmac=subject_hmac,
                prev_hash=head.hash if head else "",
                **common,
            )
            if head is not None:
                event.canonical_text = chain.canonical_json(event.canonical())
                event.hash = chain.text_hash(event.prev_hash, event.canonical_text)
                head.sequence, head.hash = event.sequence, event.hash
            current[key] = event.action
            recorded.append(event)
        if act.idempotency_key:
            existing[act.idempotency_key] = recorded  # the same key twice in one batch
        new_events.extend(recorded)
        results.append(recorded)
    return results, new_events


def _actions_before_withdrawals(acts: list[ConsentAct]) -> dict[tuple[int, int], str]:
    """The current action of every (subject, purpose) the acts withdraw: GDPR Art. 7(3) needs a
    consent to take back. Nothing else needs the states before writing (they are upserted), so
    a batch without a withdrawal reads none. Writers of one organisation are serialised by the
    head lock, so read-then-write is safe."""
    pairs = {
        (a.subject.pk, d.purpose.pk)
        for a in acts
        for d in a.decisions
        if d.action == Action.WITHDRAWN
    }
    return appends.current_actions(pairs) if pairs else {}


def consent_record(*, organisation: Organisation, act: ConsentAct) -> list[ConsentEvent]:
    """Append one event per purpose of the act, atomically: all of them or none.

    GDPR Art. 4(11) and EDPB 05/2020: consent is specific, so each purpose is its own event.
    The same ``idempotency_key`` (one per capture form) records once: a double tap or a retry
    returns the events already recorded.
    """
    (events,) = consent_record_many(organisation=organisation, acts=[act])
    return events


def consent_withdraw(*, organisation: Organisation, act: ConsentAct) -> ConsentEvent:
    """GDPR Art. 7(3): withdrawal is as easy as giving: one call, one event, no reason asked.

    ``act`` withdraws one purpose (consents.acts.withdrawal); it fails if nothing was granted.
    """
    if len(act.decisions) != 1 or act.decisions[0].action != Action.WITHDRAWN:
        raise ValidationError(_("Choose the one purpose to withdraw."))
    (event,) = consent_record(organisation=organisation, act=act)
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
                notice,
                AuditEntry.Action.CREATED if created else AuditEntry.Action.CHANGED,
                user=changed_by,
                request=request,
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
    """Check the chain from the first event and name the first broken sequence, if any.

    GDPR Art. 5(2) and 7(1): the register must show that its record of consent is the one made.
    Every event must follow the one before it (sequence and prev_hash), hash to its recorded
    hash, and its columns must still say what was hashed; the head must be the chain's end.

    On PostgreSQL the database does it (_breaks_in_sql): links with lag() in one statement,
    then SHA-256 of each event's stored canonical text and its columns rebuilt as text and
    compared with it, in a second that parallel workers can share; only failures come back.
    Elsewhere (SQLite) Python rebuilds each event's
    canonical JSON from its columns, as every verification did before the text was stored.
    """
    if connection.vendor == "postgresql":
        found = _breaks_in_sql(organisation)
        if found is not None:
            return found
    return _verify_in_python(organisation, batch_size)


def _missing(n: int, found: int, prev: str, checked: int) -> VerificationResult:
    return VerificationResult(
        False,
        checked,
        n - 1,
        prev,
        n,
        _("Event %(n)s is missing: the next event found is %(found)s.") % {"n": n, "found": found},
    )


def _unlinked(sequence: int, prev: str, checked: int) -> VerificationResult:
    return VerificationResult(
        False,
        checked,
        sequence - 1,
        prev,
        sequence,
        _("Event %(n)s does not link to the hash of the event before it.") % {"n": sequence},
    )


def _altered(sequence: int, prev: str, checked: int) -> VerificationResult:
    return VerificationResult(
        False,
        checked,
        sequence - 1,
        prev,
        sequence,
        _("Event %(n)s was altered: its content no longer matches its hash.") % {"n": sequence},
    )


def _against_head(checked: int, end_hash: str, head) -> VerificationResult:
    """``head``: (sequence, hash) of LedgerHead, or None when the organisation has none."""
    if head is not None and (head[0] != checked or head[1] != end_hash):
        return VerificationResult(
            False,
            checked,
            checked,
            end_hash,
            checked + 1,
            _("The chain ends at %(n)s but the recorded head is %(head)s: events were removed.")
            % {"n": checked, "head": head[0]},
        )
    return VerificationResult(True, checked, checked, end_hash)


def _content_matches(event: ConsentEvent) -> bool:
    """Whether the event's columns, rebuilt as canonical JSON, hash to its hash and equal the
    canonical text stored with it (when it has one)."""
    text = chain.canonical_json(event.canonical())
    if event.canonical_text is not None and text != event.canonical_text:
        return False
    return chain.text_hash(event.prev_hash, text) == event.hash


def _verify_in_python(organisation: Organisation, batch_size: int) -> VerificationResult:
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
            return _missing(expected_sequence, event.sequence, expected_prev, checked)
        if event.prev_hash != expected_prev:
            return _unlinked(event.sequence, expected_prev, checked)
        if not _content_matches(event):
            return _altered(event.sequence, expected_prev, checked)
        expected_prev = event.hash
        expected_sequence += 1
        checked += 1
    head = LedgerHead.objects.filter(organisation=organisation).values_list("sequence", "hash")
    return _against_head(checked, expected_prev, head.first())


# ConsentEvent.canonical() as chain.canonical_json writes it (keys sorted, no spaces), built by
# PostgreSQL from the columns, to compare with the stored text: equal text means the columns
# say exactly what was hashed. Instants as isoformat(timespec="microseconds") in UTC; strings
# through to_json (the escapes json.dumps makes); proof_digests from jsonb's text (keys ordered
# by length, ", " and ": ") put back in Python's order. Where this differs from Python for a
# legitimate row (an unusual proof digest, say), the row is only checked again in Python.
_INSTANT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
_DIGESTS = (
    "CASE WHEN proof_id IS NULL THEN proof_digests::text ELSE replace(replace(replace("
    'regexp_replace(proof_digests::text, \'"type": ("[^"]*"), "sha256": '
    '("[0-9a-f]{64}")\', \'"sha256": \\2, "type": \\1\', \'g\'),'
    " '\", \"', '\",\"'), '\": ', '\":'), '}, {', '},{') END"
)
# Strings: json.dumps escapes '"', '\\' and control characters. The choice values and hex
# digests can hold none of them (_QUOTABLE guards it: a row where one does goes to Python), so
# they are quoted as they are; the browser string gets '\\' and '"' escaped, and one with a
# control character differs from its text and is rechecked in Python. Both stay exact: equal
# text still means equal columns, at half the cost of to_json (measured at 1M events).
_PLAIN = ("action", "channel", "given_by", "notice_sha256", "subject_hmac")
_QUOTABLE = " OR ".join(f"strpos({c}, '\"') > 0 OR strpos({c}, '\\') > 0" for c in _PLAIN)


def _quoted(column: str) -> str:
    return f"""'"' || {column} || '"'"""


_COLUMNS_AS_TEXT = (
    f"'{{\"action\":' || {_quoted('action')}"
    " || ',\"by_subject\":' || by_subject::text"
    f' || \',"captured_at":"\' || {_INSTANT.format("captured_at")}'
    f' || \'","channel":\' || {_quoted("channel")}'
    " || ',\"confirms\":' || coalesce(confirms_id::text, 'null')"
    f" || ',\"given_by\":' || {_quoted('given_by')}"
    " || ',\"ip_address\":' || coalesce('\"' || host(ip_address) || '\"', 'null')"
    f" || ',\"notice_sha256\":' || {_quoted('notice_sha256')}"
    " || ',\"notice_version\":' || coalesce(notice_version_id::text, 'null')"
    " || ',\"organisation\":' || organisation_id::text"
    " || ',\"proof\":' || coalesce(proof_id::text, 'null')"
    f" || ',\"proof_digests\":' || {_DIGESTS}"
    " || ',\"purpose\":' || purpose_id::text"
    f' || \',"recorded_at":"\' || {_INSTANT.format("recorded_at")}'
    " || '\",\"recorded_by\":' || coalesce(recorded_by_id::text, 'null')"
    " || ',\"sequence\":' || sequence::text"
    " || ',\"subject\":' || subject_id::text"
    f" || ',\"subject_hmac\":' || {_quoted('subject_hmac')}"
    " || ',\"user_agent\":\"' || replace(replace(user_agent, '\\', '\\\\'), '\"', '\\\"')"
    " || '\"}'"
)
# Links: one statement, so the chain's end and the head are read in one snapshot. It returns
# the rows whose sequence or prev_hash does not follow, and the last event (the chain's end).
_LINKS_SQL = """
SELECT e.sequence, e.n, e.before, e.prev_hash, e.hash,
       (SELECT sequence FROM consents_ledgerhead WHERE organisation_id = %(org)s),
       (SELECT hash FROM consents_ledgerhead WHERE organisation_id = %(org)s)
FROM (
  SELECT sequence, prev_hash, hash, row_number() OVER w AS n, lag(hash) OVER w AS before
  FROM consents_consentevent
  WHERE organisation_id = %(org)s
  WINDOW w AS (ORDER BY sequence)
) e
WHERE e.sequence <> e.n OR e.prev_hash <> coalesce(e.before, %(genesis)s)
   OR e.sequence = (SELECT max(sequence) FROM consents_consentevent
                    WHERE organisation_id = %(org)s)
ORDER BY e.sequence
LIMIT 2
"""
# Content: each event's stored text against its hash and its columns. No order and no window,
# so PostgreSQL may share it among parallel workers (half the time on 2 cores, measured).
# 'legacy': no stored text (Python rebuilds it); 'altered': the text does not hash to the hash;
# 'drifted': a column no longer says what the text says.
_CONTENT_CASE = f"""
  SELECT sequence,
         CASE
           WHEN canonical_text IS NULL THEN 'legacy'
           WHEN encode(sha256(convert_to(prev_hash || canonical_text, 'UTF8')), 'hex') <> hash
             THEN 'altered'
           WHEN {_QUOTABLE} THEN 'drifted'
           WHEN canonical_text IS DISTINCT FROM {_COLUMNS_AS_TEXT} THEN 'drifted'
         END AS content
  FROM consents_consentevent
  WHERE organisation_id = %(org)s AND sequence <= %(end)s
"""  # noqa: S608 (built from constants only; every value goes as a parameter)
# min() and count() combine across workers (array_agg does not before PostgreSQL 16).
_CONTENT_SQL = f"""
SELECT min(sequence) FILTER (WHERE content = 'altered'),
       count(*) FILTER (WHERE content <> 'altered')
FROM ({_CONTENT_CASE}) e
WHERE content IS NOT NULL
"""  # noqa: S608 (built from constants only; every value goes as a parameter)
# Only when some events need a second look in Python (normally none).
_RECHECK_SQL = f"""
SELECT sequence FROM ({_CONTENT_CASE}) e
WHERE content IN ('drifted', 'legacy')
ORDER BY sequence
"""  # noqa: S608 (built from constants only; every value goes as a parameter)
# More events to recheck in Python than this (a ledger written before the text was stored, not
# backfilled): Python verifies the whole chain instead.
_RECHECK_LIMIT = 10_000


def _breaks_in_sql(organisation: Organisation) -> VerificationResult | None:
    """The verification, done by PostgreSQL; None when Python must do it instead.

    The first break is the lowest sequence that fails a check (at one sequence, a missing
    event before a broken link before altered content, as the Python path reports). A 'drifted'
    or 'legacy' event is checked again in Python from its columns before it is reported, so a
    formatting difference between SQL and Python can never raise a false alarm.
    """
    params = {"org": organisation.pk, "genesis": GENESIS_HASH}
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiling these long expressions costs more than it saves (seconds, measured).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_LINKS_SQL, params)
        links = cursor.fetchall()
        if not links:
            head = LedgerHead.objects.filter(organisation=organisation)
            return _against_head(0, GENESIS_HASH, head.values_list("sequence", "hash").first())
        sequence, n, before, prev_hash, end_hash, head_sequence, head_hash = links[0]
        # The content of every event up to the first broken link, or up to the chain's end.
        cursor.execute(_CONTENT_SQL, {**params, "end": sequence})
        altered, rechecks = cursor.fetchone()
        if rechecks > _RECHECK_LIMIT:
            return None
        candidates = []
        if rechecks:
            cursor.execute(_RECHECK_SQL, {**params, "end": sequence})
            candidates = [row[0] for row in cursor.fetchall()]
    first_altered = altered
    for candidate in candidates:
        if first_altered is not None and candidate >= first_altered:
            break
        event = ConsentEvent.objects.get(organisation=organisation, sequence=candidate)
        if not _content_matches(event):
            first_altered = candidate
            break
    expected_prev = before or GENESIS_HASH
    link_broken = sequence != n or prev_hash != expected_prev
    if first_altered is not None and (not link_broken or first_altered < sequence):
        prior = ConsentEvent.objects.filter(organisation=organisation, sequence=first_altered - 1)
        prev = prior.values_list("hash", flat=True).first() or GENESIS_HASH
        return _altered(first_altered, prev, first_altered - 1)
    if sequence != n:
        return _missing(n, sequence, expected_prev, n - 1)
    if prev_hash != expected_prev:
        return _unlinked(sequence, expected_prev, n - 1)
    head = None if head_sequence is None else (head_sequence, head_hash)
    return _against_head(n, end_hash, head)


def ledger_verify_checked(
    *, organisation: Organisation, claims: list[checkpoints.Claim] | None = None
) -> VerificationResult:
    """Recompute the chain, then hold it against every head recorded before: signed
    checkpoints, earlier successful checks, and ``claims`` (an uploaded checkpoint).

    The chain alone cannot see its newest events deleted with the head rewound to match; a head
    recorded earlier can (consents.checkpoints). The first broken sequence is named either way.
    """
    result = ledger_verify_chain(organisation=organisation)
    if not result.ok:
        return result
    found = checkpoints.contradiction(
        organisation=organisation,
        head_sequence=result.head_sequence,
        # Given claims first: a message names the uploaded checkpoint, not its stored copy.
        claims=[*(claims or []), *checkpoints.stored_claims(organisation)],
    )
    if found is None:
        return result
    broken_sequence, reason = found
    return VerificationResult(
        False,
        result.events_checked,
        result.head_sequence,
        result.head_hash,
        broken_sequence,
        reason,
    )


def ledger_verify(
    *,
    organisation: Organisation,
    triggered_by: str = "",
    claims: list[checkpoints.Claim] | None = None,
) -> IntegrityCheck:
    """Verify (ledger_verify_checked) and keep the result (shown on the dashboard and the Ledger
    integrity page). When it holds, the organisation signs a checkpoint of the head it verified
    (consents.checkpoints.sign_after_verification): at every verification, so at least nightly.
    """
    started = time.monotonic()
    result = ledger_verify_checked(organisation=organisation, claims=claims)
    check = IntegrityCheck.objects.create(
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
    checkpoints.sign_after_verification(check)
    return check


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


def purposes_for(subject: DataSubject):
    """The active purposes a person may be asked about: those for everyone and those for their
    kind (consents.rules.ensure_fits)."""
    return Purpose.objects.filter(organisation=subject.organisation_id, active=True).filter(
        audience__in=["", subject.kind]
    )


def consent_link_create(
    *,
    organisation: Organisation,
    created_by: User | None,
    subject: DataSubject | None = None,
    purposes: list[Purpose] | None = None,
    days: int | None = None,
    label: str = "",
    request=None,
) -> ConsentLink:
    """A link the person opens to consent, confirm or withdraw themself (GDPR Art. 7(1), 7(3)).

    With ``subject``, a personal link (default purposes: every active purpose of the
    organisation meant for their kind); without, a generic link for posters, which needs its
    purposes. Who created it, when and from where goes to the audit trail (invariant 6).
    """
    if subject is not None:
        rules.ensure_own_subject(subject, organisation.pk)
        subject.ensure_recordable()
        # A link is a message asking for consent: not while processing is restricted.
        rules.ensure_not_restricted(subject)
    if purposes is None and subject is not None:
        purposes = list(purposes_for(subject))
    purposes = list(purposes or [])
    if not purposes:
        raise ValidationError(_("Choose at least one purpose."))
    for purpose in purposes:
        rules.ensure_own_purpose(purpose, organisation.pk)
        if not purpose.active:
            raise ValidationError(_("Unknown purpose."))
        if subject is not None:
            rules.ensure_fits(purpose, subject.kind)
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
        audit_record(
            link,
            AuditEntry.Action.CREATED,
            user=created_by,
            request=request,
            details=[
                {"field": "purposes", "old": "", "new": ", ".join(p.code for p in purposes)},
                {"field": "expires_at", "old": "", "new": link.expires_at.isoformat()},
            ],
        )
    return link


def consent_link_for_subject(
    *, subject: DataSubject, created_by: User | None, request=None
) -> ConsentLink:
    """The person's active personal link, or a new one: one link to send, not one per send."""
    link = (
        ConsentLink.objects.active()
        .filter(subject=subject, kind=ConsentLink.Kind.PERSONAL)
        .order_by("-created_at")
        .first()
    )
    return link or consent_link_create(
        organisation=subject.organisation, created_by=created_by, subject=subject, request=request
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
            link,
            AuditEntry.Action.REVOKED,
            user=revoked_by,
            request=request,
            details=[{"field": "revoked_at", "old": "", "new": link.revoked_at.isoformat()}],
        )
    return link


def _link_usable(link: ConsentLink) -> None:
    if not link.is_active:
        raise ValidationError(_("This link is no longer valid."), code="link_inactive")


def unconfirmed_answer_keep(
    *,
    subject: DataSubject,
    decision: Decision,
    act: ConsentAct,
    source: str,
    link: ConsentLink | None = None,
) -> UnconfirmedAnswer:
    """Keep, off the ledger, a grant typed on a link that is not the person's own (a poster, a
    group invite) for a purpose they refused or withdrew (consents.rules.ensure_attributable).

    The DPO sees it on the Unconfirmed answers page and sends the person their personal link;
    a grant through that link confirms it (unconfirmed_answers_confirm).
    """
    answer, _created = UnconfirmedAnswer.objects.get_or_create(
        organisation=subject.organisation,
        subject=subject,
        purpose=decision.purpose,
        status=UnconfirmedAnswer.Status.PENDING,
        defaults={
            "notice": decision.notice,
            "channel": act.channel,
            "source": source[:200],
            "link": link,
            "ip_address": act.ip_address or None,
            "user_agent": (act.user_agent or "")[:400],
        },
    )
    return answer


def unconfirmed_answers_confirm(*, events: list[ConsentEvent]) -> int:
    """The person granted through their personal link: their pending answers are confirmed."""
    confirmed = 0
    for event in events:
        if event.action != Action.GRANTED or not event.by_subject:
            continue
        confirmed += UnconfirmedAnswer.objects.filter(
            subject_id=event.subject_id,
            purpose_id=event.purpose_id,
            status=UnconfirmedAnswer.Status.PENDING,
        ).update(
            status=UnconfirmedAnswer.Status.CONFIRMED,
            resolved_at=event.recorded_at,
            resolved_event=event,
        )
    return confirmed


def unconfirmed_answer_dismiss(
    *, answer: UnconfirmedAnswer, dismissed_by: User, request=None
) -> UnconfirmedAnswer:
    """The DPO closes an unconfirmed answer (not the person, or they did not confirm). Audited."""
    if answer.status != UnconfirmedAnswer.Status.PENDING:
        raise ValidationError(_("This answer was handled already."))
    answer.status = UnconfirmedAnswer.Status.DISMISSED
    answer.resolved_at = timezone.now()
    answer.resolved_by = dismissed_by
    answer.save(update_fields=["status", "resolved_at", "resolved_by"])
    audit_record(
        answer,
        AuditEntry.Action.CHANGED,
        user=dismissed_by,
        request=request,
        details=[{"field": "status", "old": "pending", "new": "dismissed"}],
    )
    return answer


def split_unattributable(
    *, subject: DataSubject, decisions: list[Decision], personal: bool, current=None
) -> tuple[list[Decision], list[Decision]]:
    """(what may be recorded, what must wait for the person's confirmation): the rule
    consents.rules.ensure_attributable applied to the person's current states.

    ``current`` (purpose id -> action), when the caller has read the states already."""
    if personal:
        return list(decisions), []
    if current is None:
        current = dict(
            ConsentState.objects.filter(subject=subject).values_list("purpose_id", "action")
        )
    recordable, waiting = [], []
    for decision in decisions:
        try:
            rules.ensure_attributable(current.get(decision.purpose.pk), personal=personal)
        except ValidationError:
            waiting.append(decision)
        else:
            recordable.append(decision)
    return recordable, waiting


@transaction.atomic
def public_consent_submit(
    *,
    link: ConsentLink,
    act: ConsentAct,
    language: str,
    full_name: str | None = None,
    phone: str | None = None,
) -> list[ConsentEvent]:
    """The person ticks purposes on their link: one granted event per purpose, by the person.

    GDPR Art. 4(11) and 7(1): a clear affirmative act (nothing pre-ticked), per purpose, with the
    notice version shown in their language, their IP address and browser as proof (all in
    ``act``). On a personal link a purpose staff logged (by_subject=False) is confirmed instead:
    a granted event that ``confirms`` the staff event (double opt-in). A purpose already granted
    by the person records nothing. A generic link finds or creates the person by the phone typed
    and never tells the visitor whether the number was known: a blocked person records nothing,
    and a purpose the person refused or withdrew waits, off the ledger, for their confirmation
    through their personal link (anyone can type anyone's number on a poster).
    """
    from .phones import parse_phone

    _link_usable(link)
    organisation = link.organisation
    if not act.decisions:
        raise ValidationError(_("Tick at least one purpose."))
    offered = set(link.purposes.values_list("pk", flat=True))
    subject = link.subject
    if subject is not None:
        offered |= set(
            ConsentState.objects.filter(subject=subject, action=Action.GRANTED).values_list(
                "purpose_id", flat=True
            )
        )
    for decision in act.decisions:
        rules.ensure_offered(decision.purpose, offered)
        if decision.action != Action.GRANTED:
            raise ValidationError(_("Unknown purpose."))
    if subject is None:
        if not (full_name or "").strip():
            raise ValidationError({"full_name": _("Enter your full name.")})
        try:
            number = parse_phone(phone or "", organisation.country)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from None
        subject = DataSubject.objects.filter(organisation=organisation, phone=number).first()
        if subject is not None and (subject.is_hidden or subject.is_restricted):
            return []  # silently: the page reveals nothing about a number
    decisions = [
        Decision(
            purpose=d.purpose,
            action=Action.GRANTED,
            notice=d.notice or NoticeVersion.objects.to_show(d.purpose, language),
        )
        for d in act.decisions
    ]
    if link.subject_id is None:
        # A poster says nothing about a number that objected to marketing (GDPR Art. 21(3)):
        # that grant is quietly not recorded; the person's own link says why (consents.rules).
        decisions = without_suppressed_marketing(
            organisation=organisation, phone=number, decisions=decisions
        )
        if not decisions:
            return []
        if subject is None:
            subject, _created = subject_find_or_create(
                organisation=organisation,
                person=PersonDetails(
                    phone=number, full_name=full_name, preferred_language=language
                ),
            )
    states = {
        s.purpose_id: s
        for s in ConsentState.objects.filter(subject=subject).select_related("event")
    }
    recordable, waiting = split_unattributable(
        subject=subject,
        decisions=decisions,
        personal=link.subject_id is not None,
        current={purpose_id: state.action for purpose_id, state in states.items()},
    )
    for decision in waiting:
        unconfirmed_answer_keep(
            subject=subject, decision=decision, act=act, source=link.label or str(link), link=link
        )
    act = act.but(subject=subject, by_subject=True, recorded_by=None)
    fresh, events = [], []
    for decision in recordable:
        state = states.get(decision.purpose.pk)
        if state is None or state.action != Action.GRANTED:
            fresh.append(decision)
        elif link.subject_id and not state.event.by_subject:
            # Only the person's own link confirms: a poster's visitor could type anyone's number.
            events += consent_record(
                organisation=organisation,
                act=act.but(decisions=[decision], confirms=state.event),
            )
    if fresh:
        events += consent_record(organisation=organisation, act=act.but(decisions=fresh))
    if link.subject_id:
        unconfirmed_answers_confirm(events=events)
    link.last_used_at = timezone.now()
    link.save(update_fields=["last_used_at"])
    return events


def public_withdraw(*, link: ConsentLink, act: ConsentAct) -> ConsentEvent:
    """GDPR Art. 7(3): one click on their personal link withdraws, as easily as it was given."""
    _link_usable(link)
    if link.subject is None:
        raise ValidationError(_("Unknown purpose."))
    for decision in act.decisions:
        rules.ensure_own_purpose(decision.purpose, link.organisation_id)
    with transaction.atomic():
        event = consent_withdraw(
            organisation=link.organisation,
            act=act.but(subject=link.subject, by_subject=True, recorded_by=None),
        )
        link.last_used_at = timezone.now()
        link.save(update_fields=["last_used_at"])
    return event


# --- what the person's rights do to their record (called by rights_requests.fulfilment) ------
#
# The rights-request register decides; these write the consent register's side of it. Each
# request is referenced by its id as a plain integer (``request_pk``): consents does not depend
# on rights_requests. Changes to DataSubject go through save(), so django-simple-history keeps
# the before and after (invariant 6) with who made them.

RECTIFIABLE_FIELDS = ("full_name", "phone", "email", "preferred_language")


def _save_subject(subject: DataSubject, user: User | None, fields: list[str]) -> None:
    subject._history_user = user  # simple-history: who made the change, also outside a request
    subject.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def subject_rectify(*, subject: DataSubject, changes: dict, user: User | None) -> list[str]:
    """GDPR Art. 16: correct the person's name, number, e-mail or language; returns the names
    of the fields that changed. History keeps the before and after. The ledger is untouched:
    each event holds an HMAC of the identifiers as they were, so the old ones stay provable and
    events after this one carry the HMAC of the new ones."""
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    rules.ensure_recordable(subject)
    unknown = set(changes) - set(RECTIFIABLE_FIELDS)
    if unknown:
        raise ValidationError(_("Only the name, phone, e-mail and language can be rectified."))
    changed = []
    for field, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(subject, field) != value:
            setattr(subject, field, value)
            changed.append(field)
    if not changed:
        raise ValidationError(_("Nothing to rectify: the values are the ones on record."))
    if (
        "phone" in changed
        and DataSubject.objects.filter(organisation=subject.organisation_id, phone=subject.phone)
        .exclude(pk=subject.pk)
        .exists()
    ):
        raise ValidationError(
            {"phone": _("Another person of the register has this number already.")}
        )
    subject.full_clean()
    _save_subject(subject, user, changed)
    return changed


@transaction.atomic
def subject_restrict(*, subject: DataSubject, request_pk: int, user: User | None) -> DataSubject:
    """GDPR Art. 18: the person's data is only kept. Capture, links and messages refuse
    (consents.rules.ensure_not_restricted) until the restriction is lifted."""
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    rules.ensure_recordable(subject)
    if subject.is_restricted:
        raise ValidationError(_("Processing of this person's data is restricted already."))
    subject.status = SubjectStatus.RESTRICTED
    subject.restricted_at = timezone.now()
    subject.restriction_request_pk = request_pk
    _save_subject(subject, user, ["status", "restricted_at", "restriction_request_pk"])
    return subject


@transaction.atomic
def subject_restriction_lift(*, subject: DataSubject, user: User | None) -> DataSubject:
    """GDPR Art. 18(3): the restriction ends (the person was told first); normal use resumes.
    The history keeps when it began and ended."""
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    if not subject.is_restricted:
        raise ValidationError(_("Processing of this person's data is not restricted."))
    subject.status = SubjectStatus.ACTIVE
    subject.restricted_at = None
    _save_subject(subject, user, ["status", "restricted_at"])
    return subject


@transaction.atomic
def subject_block(
    *, subject: DataSubject, request_pk: int, purge_after, user: User | None
) -> DataSubject:
    """LOPDGDD Art. 32: erased data is first blocked: kept only for courts and authorities, out
    of every normal list, search, export and capture, until ``purge_after`` (the end of the
    blocking period), when rights_requests.purge removes it. Only the erasure service of
    rights_requests.fulfilment calls this."""
    subject = DataSubject.objects.select_for_update().get(pk=subject.pk)
    rules.ensure_recordable(subject)
    subject.status = SubjectStatus.BLOCKED
    subject.blocked_at = timezone.now()
    subject.purge_after = purge_after
    subject.erasure_request_pk = request_pk
    _save_subject(subject, user, ["status", "blocked_at", "purge_after", "erasure_request_pk"])
    ConsentLink.objects.filter(subject=subject, revoked_at__isnull=True).update(
        revoked_at=subject.blocked_at
    )
    UnconfirmedAnswer.objects.filter(
        subject=subject, status=UnconfirmedAnswer.Status.PENDING
    ).update(status=UnconfirmedAnswer.Status.DISMISSED, resolved_at=subject.blocked_at)
    return subject


def suppression_add(
    *,
    organisation: Organisation,
    phone,
    reason: str,
    request_pk: int | None,
    user: User | None,
    request=None,
) -> tuple[SuppressedNumber, bool]:
    """Put a number on the suppression list (GDPR Art. 21(3)): never again asked for, or
    recorded as granting, marketing. Holds a keyed hash, not the number. Audited."""
    if reason not in SuppressedNumber.Reason.values:
        raise ValidationError(_("Unknown reason."))
    digest = chain.phone_hmac(organisation.pk, phone.as_e164)
    entry, created = SuppressedNumber.objects.get_or_create(
        organisation=organisation,
        phone_hmac=digest,
        defaults={"reason": reason, "request_pk": request_pk, "created_by": user},
    )
    if created:
        e164 = phone.as_e164
        transaction.on_commit(
            lambda: signals.number_suppressed.send(
                sender=SuppressedNumber, organisation=organisation, e164=e164, reason=reason
            )
        )
        audit_record(
            entry,
            AuditEntry.Action.CREATED,
            user=user,
            request=request,
            details=[{"field": "reason", "old": "", "new": reason}],
        )
    return entry, created


def consent_withdraw_granted(
    *,
    subject: DataSubject,
    channel: str,
    recorded_by: User | None,
    note: str,
    idempotency_key: str,
    category: str | None = None,
) -> list[ConsentEvent]:
    """Withdraw every consent the person has granted (only those of ``category`` when given)
    in one act: one ledger event per purpose (GDPR Art. 7(3)). ``note`` goes into the proof
    kept with the act and ``idempotency_key`` onto every event: both name the request that
    asked for it, and a second call with the same key records nothing new."""
    organisation = subject.organisation
    with transaction.atomic():
        ledger_head_lock(organisation)
        replayed = _replay(organisation, idempotency_key)
        if replayed:
            return replayed
        states = ConsentState.objects.filter(subject=subject, action=Action.GRANTED)
        if category:
            states = states.filter(purpose__category=category)
        purposes = [s.purpose for s in states.select_related("purpose").order_by("purpose_id")]
        if not purposes:
            return []
        proof = proof_create(
            organisation=organisation, subject=subject, note=note, created_by=recorded_by
        )
        return consent_record(
            organisation=organisation,
            act=ConsentAct(
                decisions=[Decision(purpose=p, action=Action.WITHDRAWN) for p in purposes],
                channel=channel,
                subject=subject,
                recorded_by=recorded_by,
                proof=proof,
                idempotency_key=idempotency_key,
            ),
        )
