"""python -m bench seed: one organisation with a register at scale and a valid hash chain.

The ledger rows are written with PostgreSQL COPY in batches, but each one is built exactly as
consents.services.consent_record builds it: the same ConsentEvent fields, hashed with
consents.chain.event_hash over ConsentEvent.canonical(), linked by prev_hash, sequences 1..N.
Each batch and the LedgerHead move together in one transaction, so an interrupted seed leaves a
valid chain and the next run continues it (the ledger is append-only: nothing is ever deleted).
ConsentState is then derived from the ledger as consent_state_rebuild does (latest event by
sequence per subject and purpose), in one SQL statement instead of a million ORM objects.
"""

import bisect
import datetime
import hashlib
import io
import json
import random
import time
from itertools import accumulate

from django.core.files.base import ContentFile
from django.db import connection, transaction
from phonenumber_field.phonenumber import PhoneNumber
from PIL import Image

from accounts.models import Membership, Organisation, User
from accounts.roles import Role
from consents import chain, services
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubject,
    GivenBy,
    LedgerHead,
    NoticeVersion,
    Proof,
    ProofFile,
    Purpose,
    PurposeCategory,
)

FULL = {"subjects": 200_000, "events": 1_000_000}
SMALL = {"subjects": 20_000, "events": 100_000}
BATCH = 50_000
HISTORY = datetime.timedelta(days=3 * 365)

# (code, name, category, share of the events)
PURPOSES = [
    ("marketing-wa", "WhatsApp offers", PurposeCategory.MARKETING, 0.35),
    ("appointments", "Appointment reminders", PurposeCategory.APPOINTMENTS, 0.25),
    ("informational", "Service news", PurposeCategory.INFORMATIONAL, 0.20),
    ("documents", "Invoices and documents", PurposeCategory.DOCUMENTS, 0.12),
    ("groups", "Community WhatsApp group", PurposeCategory.GROUP_MEMBERSHIP, 0.08),
]
LANGUAGES = [("es", 0.80), ("en", 0.15), ("ar", 0.05)]
CHANNELS = [
    (Channel.WHATSAPP.value, 0.45),
    (Channel.IN_PERSON.value, 0.25),
    (Channel.PHONE_CALL.value, 0.10),
    (Channel.PAPER_FORM.value, 0.10),
    (Channel.EMAIL.value, 0.05),
    (Channel.INVITE_LINK.value, 0.05),
]
# fmt: off
FIRST_NAMES = [
    "Ana", "Antonio", "Carmen", "Manuel", "Josefa", "José", "Isabel", "Francisco", "Laura",
    "David", "Lucía", "Javier", "Marta", "Daniel", "Paula", "Carlos", "Sara", "Alejandro",
    "Elena", "Pablo", "Cristina", "Sergio", "Nuria", "Jorge", "Raquel", "Luis", "Alba",
    "Miguel", "Irene", "Rafael", "Fátima", "Mohamed", "Noelia", "Adrián", "Rocío", "Hugo",
    "Pilar", "Álvaro", "Silvia", "Diego", "Aisha", "Omar", "Beatriz", "Iván", "Lorena", "Rubén",
    "Inés", "Óscar", "Yolanda", "Mario",
]
SURNAMES = [
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
    "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
    "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido",
    "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto",
]
# fmt: on
# Plain strings (not the enum members) go to COPY and to the hash, as they come back from the DB.
GRANTED, WITHDRAWN, REFUSED = Action.GRANTED.value, Action.WITHDRAWN.value, Action.REFUSED.value
USER_AGENT = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Mobile"


def phone_for(index: int) -> str:
    """Distinct, valid Spanish mobile numbers (6xx xxx xxx), in E.164 as the database keeps them."""
    return f"+34{600_000_000 + index * 7}"


def dpo_email(slug: str) -> str:
    return f"dpo@{slug}.bench.invalid"


class Picker:
    """Weighted choice from a fixed table, cheaper than random.choices in a hot loop."""

    def __init__(self, table):
        self.values = [value for value, _weight in table]
        self.bounds = list(accumulate(weight for _value, weight in table))

    def __call__(self, rng: random.Random):
        index = bisect.bisect(self.bounds, rng.random() * self.bounds[-1])
        return self.values[min(index, len(self.values) - 1)]


def seed(*, slug: str, subjects: int, events: int, proofs: int = 0, log=print) -> None:
    """``proofs``: how many of the new events carry a proof file (a JPEG or PDF of about
    200 KB, in storage), as an event recorded with an uploaded screenshot or scan does."""
    started = time.monotonic()
    organisation, users = _organisation(slug)
    purposes, notices = _purposes_and_notices(organisation, users[0])
    _subjects(organisation, subjects, log)
    appended = _events(organisation, purposes, notices, users, events, log, proofs=proofs)
    if appended or not ConsentState.objects.filter(organisation=organisation).exists():
        _states(organisation, log)
    if appended:
        _vacuum(log)
    head = LedgerHead.objects.get(organisation=organisation)
    count = DataSubject.objects.filter(organisation=organisation).count()
    log(
        f"seed: organisation {slug!r} holds {count:,} subjects and a chain of "
        f"{head.sequence:,} events ({time.monotonic() - started:.0f} s)"
    )


def _organisation(slug: str) -> tuple[Organisation, list[User]]:
    organisation, _created = Organisation.objects.get_or_create(
        slug=slug,
        defaults={
            "legal_name": f"Bench {slug} S.L.",
            "tax_id": "B00000000",
            "country": "ES",
            "contact_email": f"privacy@{slug}.bench.invalid",
            "dpo_name": "Bench DPO",
            "dpo_email": dpo_email(slug),
            "default_language": "es",
        },
    )
    LedgerHead.objects.get_or_create(organisation=organisation)
    users = []
    for index, (email, role) in enumerate(
        [(dpo_email(slug), Role.DPO)]
        + [(f"staff{n}@{slug}.bench.invalid", Role.STAFF) for n in (1, 2, 3)]
    ):
        user = User.objects.filter(email=email).first()
        if user is None:
            # No password: the benchmark logs in with force_login, nobody can log in as these.
            user = User.objects.create_user(email, None, full_name=f"Bench user {index}")
        Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        users.append(user)
    return organisation, users


def _purposes_and_notices(organisation, dpo) -> tuple[list[Purpose], dict[str, NoticeVersion]]:
    purposes = []
    for code, name, category, _share in PURPOSES:
        purpose, _created = Purpose.objects.get_or_create(
            organisation=organisation,
            code=code,
            defaults={"name": name, "category": category, "retention_months": 36},
        )
        purposes.append(purpose)
    notices = {}
    for language, _share in LANGUAGES:
        notice, _created = NoticeVersion.objects.get_or_create(
            organisation=organisation,
            language=language,
            title="Privacy notice",
            version="bench-1",
            defaults={
                "summary": "We message you on WhatsApp for the purposes you choose.",
                "text": "Controller, purposes, legal basis (consent), recipients (Meta, as "
                "processor; transfers under the EU-US Data Privacy Framework), retention of "
                "36 months after the purpose ends, and your rights (GDPR Art. 13).",
                "created_by": dpo,
            },
        )
        if not notice.is_published:
            notice.purposes.set(purposes)
            notice = services.notice_publish(notice=notice)
        notices[language] = notice
    return purposes, notices


def _subjects(organisation, total: int, log) -> None:
    existing = DataSubject.objects.filter(organisation=organisation).count()
    if existing >= total:
        log(f"seed: {existing:,} subjects already there")
        return
    started = time.monotonic()
    rng = random.Random(existing)
    language = Picker(LANGUAGES)
    kind = Picker(
        [
            (DataSubject.Kind.CUSTOMER.value, 0.85),
            (DataSubject.Kind.EMPLOYEE.value, 0.05),
            (DataSubject.Kind.SUPPLIER.value, 0.05),
            (DataSubject.Kind.OTHER.value, 0.05),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    columns = (
        "organisation_id, kind, full_name, phone, email, external_ref, preferred_language, "
        "is_minor, guardian_name, notes, status, blocked_at, purge_after, created_at, updated_at"
    )
    # A blocked person always has a purge date (constraint blocked_subject_has_purge_date).
    purge_after = (now + datetime.timedelta(days=3 * 365)).date()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY consents_datasubject ({columns}) FROM STDIN") as copy,
    ):
        for index in range(existing, total):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
            copy.write_row(
                (
                    organisation.pk,
                    kind(rng),
                    name,
                    phone_for(index),
                    f"client{index + 1}@example.com" if rng.random() < 0.6 else "",
                    f"C{index + 1:07d}",
                    language(rng),
                    False,
                    "",
                    "",
                    # A few people asked for erasure: blocked, kept out of new captures.
                    *(
                        ("blocked", now, purge_after)
                        if rng.random() < 0.005
                        else ("active", None, None)
                    ),
                    now,
                    now,
                )
            )
    log(f"seed: {total - existing:,} subjects in {time.monotonic() - started:.1f} s")


def _people(organisation, log) -> list[tuple[int, str, str]]:
    """(id, identifiers HMAC, preferred language) of every subject, in id order.

    The HMAC is of DataSubject.identifiers(), as consent_record computes it; the phone is read
    as the E.164 text the database holds and rebuilt from its parts, because parsing 200,000
    numbers (as the ORM does on every read) would cost most of a minute.
    """
    started = time.monotonic()
    people = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, full_name, phone, email, guardian_name, preferred_language"
            " FROM consents_datasubject WHERE organisation_id = %s ORDER BY id",
            [organisation.pk],
        )
        rows = cursor.fetchall()
    for pk, full_name, phone, email, guardian_name, language in rows:
        subject = DataSubject(
            full_name=full_name, phone=_phone(phone), email=email, guardian_name=guardian_name
        )
        people.append((pk, chain.identifiers_hmac(subject.identifiers()), language))
    log(f"seed: identifiers HMAC of {len(people):,} subjects in {time.monotonic() - started:.1f} s")
    return people


def _phone(e164: str) -> PhoneNumber:
    if e164.startswith("+34") and len(e164) == 12:
        return PhoneNumber(country_code=34, national_number=int(e164[3:]))
    return PhoneNumber.from_string(e164)


def _last_actions(organisation) -> dict[tuple[int, int], str]:
    """Latest action per (subject, purpose) already in the ledger, to continue it plausibly."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (subject_id, purpose_id) subject_id, purpose_id, action"
            " FROM consents_consentevent WHERE organisation_id = %s"
            " ORDER BY subject_id, purpose_id, sequence DESC",
            [organisation.pk],
        )
        return {(s, p): action for s, p, action in cursor.fetchall()}


EVENT_COLUMNS = (
    "organisation_id, sequence, subject_id, purpose_id, action, channel, captured_at, "
    "recorded_at, recorded_by_id, by_subject, given_by, notice_version_id, notice_sha256, "
    "proof_id, proof_digests, ip_address, user_agent, confirms_id, subject_hmac, "
    "idempotency_key, prev_hash, hash, canonical_text"
)


def _events(organisation, purposes, notices, users, total: int, log, *, proofs: int = 0) -> int:
    head = LedgerHead.objects.get(organisation=organisation)
    if head.sequence >= total:
        log(f"seed: the chain already holds {head.sequence:,} events: nothing to add")
        return 0
    people = _people(organisation, log)
    started = time.monotonic()
    last = _last_actions(organisation) if head.sequence else {}
    rng = random.Random(head.sequence)
    purpose = Picker([(p, share) for p, (*_rest, share) in zip(purposes, PURPOSES, strict=True)])
    channel = Picker(CHANNELS)
    staff_ids = [user.pk for user in users]
    # Times follow the sequence over three years before the organisation was created, so a
    # continued seed keeps recorded_at increasing along the chain.
    origin = organisation.created_at - HISTORY
    step = HISTORY / total
    # One instance, refilled per event: canonical() is the very method consent_record hashes.
    event = ConsentEvent(organisation=organisation, proof_digests=[], user_agent="")
    sequence, prev_hash = head.sequence, head.hash
    # Its own generator, so that seeding without proofs draws exactly the events it always did.
    proof_rng = random.Random(head.sequence + 7919)
    proof_share = proofs / (total - head.sequence)
    while sequence < total:
        batch_end = min(total, sequence + BATCH)
        with transaction.atomic(), connection.cursor() as cursor:
            with_proof = _proofs(
                organisation,
                people,
                staff_ids,
                range(sequence + 1, batch_end + 1),
                round(proof_share * (batch_end - sequence)),
                proof_rng,
            )
            with cursor.cursor.copy(
                f"COPY consents_consentevent ({EVENT_COLUMNS}) FROM STDIN"
            ) as copy:
                for number in range(sequence + 1, batch_end + 1):
                    subject_id, subject_hmac, language = people[rng.randrange(len(people))]
                    chosen = purpose(rng)
                    proof = with_proof.get(number)
                    if proof is not None:
                        (subject_id, subject_hmac, language), proof_channel = proof[:2]
                    previous = last.get((subject_id, chosen.pk))
                    if previous == GRANTED:
                        action = WITHDRAWN if rng.random() < 0.5 else GRANTED
                    else:
                        action = GRANTED if rng.random() < 0.75 else REFUSED
                    by_subject = rng.random() < 0.10
                    if proof is not None:
                        # Staff recorded a grant and attached the screenshot or the scan.
                        action, by_subject = GRANTED, False
                    last[(subject_id, chosen.pk)] = action
                    notice = None if action == WITHDRAWN else notices[language]
                    recorded_at = origin + step * number
                    event.sequence = number
                    event.subject_id = subject_id
                    event.subject_hmac = subject_hmac
                    event.purpose_id = chosen.pk
                    event.action = action
                    event.channel = Channel.WEB_FORM.value if by_subject else channel(rng)
                    if proof is not None:
                        event.channel = proof_channel
                    event.proof_id = proof[2] if proof else None
                    event.proof_digests = proof[3] if proof else []
                    event.recorded_at = recorded_at
                    event.captured_at = recorded_at - datetime.timedelta(
                        seconds=rng.randrange(0, 3600)
                    )
                    event.recorded_by_id = None if by_subject else rng.choice(staff_ids)
                    event.by_subject = by_subject
                    event.given_by = GivenBy.SUBJECT.value
                    event.notice_version_id = notice.pk if notice else None
                    event.notice_sha256 = notice.sha256 if notice else ""
                    event.ip_address = f"192.0.2.{number % 250 + 1}" if by_subject else None
                    event.user_agent = USER_AGENT if by_subject else ""
                    event.prev_hash = prev_hash
                    # The text consent_record stores with the event, and the hash over it.
                    text = chain.canonical_json(event.canonical())
                    event.hash = chain.text_hash(prev_hash, text)
                    copy.write_row(
                        (
                            organisation.pk,
                            number,
                            subject_id,
                            chosen.pk,
                            action,
                            event.channel,
                            event.captured_at,
                            recorded_at,
                            event.recorded_by_id,
                            by_subject,
                            event.given_by,
                            event.notice_version_id,
                            event.notice_sha256,
                            event.proof_id,
                            json.dumps(event.proof_digests),
                            event.ip_address,
                            event.user_agent,
                            None,
                            subject_hmac,
                            "",
                            prev_hash,
                            event.hash,
                            text,
                        )
                    )
                    prev_hash = event.hash
            sequence = batch_end
            LedgerHead.objects.filter(organisation=organisation).update(
                sequence=sequence, hash=prev_hash
            )
        elapsed = time.monotonic() - started
        log(f"seed: events up to #{sequence:,} ({elapsed:.0f} s)")
    return total - head.sequence


def proof_content(rng: random.Random, content_type: str) -> bytes:
    """About 200 KB of a valid, distinct JPEG (or a PDF holding one), as a phone photo of a
    signed form is: noisy pixels compress about as badly as a photograph of paper does."""
    width = rng.randrange(520, 660)
    height = width * 3 // 4
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PDF" if content_type == "application/pdf" else "JPEG", quality=85)
    return out.getvalue()


def _proofs(organisation, people, staff_ids, numbers, count: int, rng) -> dict:
    """Proofs (one file each) for ``count`` of the event ``numbers``: {number: ((subject id,
    HMAC, language), channel, proof id, proof digests)}. The files are in storage before the
    events that name them are written, as consent_record stores the proof first."""
    chosen = sorted(rng.sample(numbers, min(count, len(numbers))))
    attached = {}
    for number in chosen:
        person = people[rng.randrange(len(people))]
        # Two in three a WhatsApp screenshot, one in three a signed paper form scanned to PDF.
        if rng.random() < 2 / 3:
            content_type, extension, channel = "image/jpeg", "jpg", Channel.WHATSAPP.value
        else:
            content_type, extension, channel = "application/pdf", "pdf", Channel.PAPER_FORM.value
        content = proof_content(rng, content_type)
        proof = Proof.objects.create(
            organisation=organisation,
            subject_id=person[0],
            quote="Sí, acepto" if channel == Channel.WHATSAPP.value else "",
            created_by_id=rng.choice(staff_ids),
        )
        record = ProofFile(
            organisation=organisation,
            proof=proof,
            original_name=f"proof-{number}.{extension}",
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        record.file.save(record.original_name, ContentFile(content), save=False)
        record.save()
        attached[number] = (person, channel, proof.pk, proof.digests())
    return attached


def _states(organisation, log) -> None:
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM consents_consentstate WHERE organisation_id = %s", [organisation.pk]
        )
        cursor.execute(
            "INSERT INTO consents_consentstate"
            " (organisation_id, subject_id, purpose_id, event_id, action, captured_at)"
            " SELECT DISTINCT ON (subject_id, purpose_id)"
            " organisation_id, subject_id, purpose_id, id, action, captured_at"
            " FROM consents_consentevent WHERE organisation_id = %s"
            " ORDER BY subject_id, purpose_id, sequence DESC",
            [organisation.pk],
        )
        count = cursor.rowcount
    log(f"seed: {count:,} consent states in {time.monotonic() - started:.1f} s")


def _vacuum(log) -> None:
    # Fresh statistics and visibility map, as autovacuum would leave them on a live database:
    # without them the planner guesses and the plans printed by `run` would mislead.
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("consents_datasubject", "consents_consentevent", "consents_consentstate"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    log(f"seed: VACUUM (ANALYZE) in {time.monotonic() - started:.1f} s")
