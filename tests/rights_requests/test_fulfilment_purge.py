"""The purge at the end of the blocking period, tested the hard way: a person with everything
Constancia can hold about them is erased, blocked, purged three years later, and then every
table of the database (historical ones included) and every file under MEDIA_ROOT is searched
for their name, number, e-mail and quote. Run on SQLite and, with DATABASE_URL, PostgreSQL."""

import datetime
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from consents import imports, services
from consents.acts import ConsentAct, Decision
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentLink,
    DataSubject,
    ProofFile,
    PurposeCategory,
    SuppressedNumber,
    UnconfirmedAnswer,
)
from consents.phones import parse_phone
from consents.uploads import InspectedUpload
from evidence.packs import PackScope, build_pack
from groups import services as group_services
from groups.models import GroupMembership
from jobs.models import Job
from rights_requests import fulfilment, purge
from rights_requests.choices import Right
from rights_requests.models import RequestAttachment, RequestLetter, RightsRequest
from rights_requests.tasks import purge_blocked_subjects
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.groups.factories import group_with_notice
from tests.rights_requests.fulfil_factories import rights_request

pytestmark = pytest.mark.django_db

NAME = "Lucía Pérez-Quintana"
OLD_NAME = "Lucia Perez Quintana"
GIVEN_NAME = "L. Pérez-Quintana"
EMAIL = "lucia.quintana@example.org"
QUOTE = "Sí, acepto las ofertas de la clínica"
PHONE = "+34612345678"
PHONE_FORMS = ("+34612345678", "+34 612 34 56 78", "612 34 56 78", "612345678")
FILE_TEXT = f"Formulario firmado por {NAME}, teléfono 612 34 56 78".encode()


def _needles() -> list[str]:
    values = [NAME, OLD_NAME, GIVEN_NAME, EMAIL, QUOTE, *PHONE_FORMS]
    # JSON columns may keep non-ASCII letters as \\u escapes (SQLite): look for those too.
    return sorted({v for value in values for v in (value, json.dumps(value)[1:-1])})


def _text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="ignore")
    return "" if value is None else str(value)


def _database_hits() -> list[str]:
    """Every cell of every table (models, historical models, Django's own) holding a needle."""
    needles = [n.casefold() for n in _needles()]
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _text(value).casefold()
                    hits += [f"{table}.{column}: {n}" for n in needles if n in text]
    return hits


def _file_texts(path: Path):
    content = path.read_bytes()
    yield content.decode("utf-8", errors="ignore")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield archive.read(name).decode("utf-8", errors="ignore")


def _media_hits() -> list[str]:
    needles = [n.casefold() for n in _needles()]
    hits = []
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            for text in _file_texts(path):
                hits += [f"{path}: {n}" for n in needles if n in text.casefold()]
    return hits


def _everything(org, dpo, client, django_capture_on_commit_callbacks):
    """A person with everything the register can hold about them, and their requests."""
    marketing = PurposeFactory(organisation=org, code="offers", name="Ofertas")
    citas = PurposeFactory(
        organisation=org, code="citas", name="Citas", category=PurposeCategory.APPOINTMENTS
    )
    notice = published_notice(purposes=[marketing, citas])
    subject = DataSubjectFactory(
        organisation=org,
        full_name=OLD_NAME,
        phone=PHONE,
        email=EMAIL,
        external_ref="CLI-0042-QUINTANA",
        notes=f"{NAME} prefiere la tarde",
        is_minor=True,
        guardian_name="Marta Quintana Ruiz",
    )
    proof = services.proof_create(
        organisation=org,
        subject=subject,
        quote=QUOTE,
        note=f"Respondió {NAME} desde su móvil",
        files=[
            InspectedUpload(
                name=f"{NAME}.pdf",
                content=b"%PDF-1.4\n" + FILE_TEXT,
                content_type="application/pdf",
            )
        ],
        created_by=dpo,
    )
    grant(subject, marketing, notice, proof=proof, recorded_by=dpo)
    grant(subject, citas, notice, by_subject=True, ip_address="203.0.113.7", user_agent="Mobile")
    record = ProofFile.objects.get(proof=proof)
    # A member downloads the proof: the audit trail names the file ("Lucía ….pdf").
    client.force_login(dpo)
    assert client.get(reverse("consents:proof_file", args=[org.slug, record.pk])).status_code == 200

    # A rectification: the old name stays in history until the purge.
    fulfilment.rectification_carry_out(
        rights_request=rights_request(subject, Right.RECTIFICATION),
        user=dpo,
        changes={"full_name": NAME},
    )
    # A WhatsApp group, a roster check that lists the number, a poster answer kept unconfirmed.
    group = group_with_notice(org, name="Pacientes")
    group_services.group_member_add(
        group=group, phone=parse_phone(PHONE, "ES"), full_name=NAME, added_by=dpo
    )
    group_services.roster_check_create(
        group=group, text=f"{NAME};+34 612 34 56 78\nnot a number {NAME}", checked_by=dpo
    )
    UnconfirmedAnswer.objects.create(
        organisation=org,
        subject=subject,
        purpose=marketing,
        channel=Channel.WEB_FORM,
        source="Póster de recepción",
        ip_address="198.51.100.23",
        user_agent="Firefox",
    )
    services.consent_link_for_subject(subject=subject, created_by=dpo)
    # A certificate job (its description names the person) and an evidence pack listing them.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("evidence:certificate", args=[org.slug, subject.pk]),
            {"purpose": "", "language": "es"},
        )
    pack_path = Path(settings.MEDIA_ROOT) / "exports" / str(org.pk) / "pack.zip"
    pack_path.parent.mkdir(parents=True, exist_ok=True)
    build_pack(organisation=org, scope=PackScope(), path=pack_path)
    Job.objects.create(
        organisation=org,
        kind="pack",
        status=Job.Status.DONE,
        result=str(pack_path.relative_to(settings.MEDIA_ROOT)),
        result_name="pack.zip",
    )
    # A staged import that holds the number, checked as a job (its report names the person).
    csv_text = (
        "phone;full_name;purpose;action;captured_at\n"
        f"612 34 56 78;{NAME};citas;refused;2024-01-01\n"
    )
    staged = imports.checked_file_path(org, hashlib.sha256(csv_text.encode()).hexdigest())
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_text(csv_text)
    report = imports.import_check(organisation=org, fileobj=io.BytesIO(csv_text.encode()))
    Job.objects.create(organisation=org, kind="import_check", outcome=report.to_dict())

    # An objection first: the number goes on the suppression list, which outlives the purge.
    fulfilment.objection_carry_out(
        rights_request=rights_request(subject, Right.OBJECTION), user=dpo
    )
    # An access copy (a ZIP on disk) and the erasure request, with an attachment and a letter.
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.access_export_start(
            rights_request=rights_request(subject, Right.ACCESS), user=dpo
        )
    erasure = rights_request(
        subject,
        Right.ERASURE,
        requester_name=GIVEN_NAME,
        requester_phone=PHONE,
        requester_email=EMAIL,
        details=f"Soy {NAME}, borren mis datos. Mi e-mail es {EMAIL}.",
        identity_note="DNI 12345678Z visto en recepción",
        answer=f"Estimada {NAME}: sus datos han sido bloqueados.",
    )
    attachment = RequestAttachment(
        organisation=org,
        request=erasure,
        original_name=f"carta {NAME}.pdf",
        content_type="application/pdf",
        size=len(FILE_TEXT),
        sha256=hashlib.sha256(FILE_TEXT).hexdigest(),
    )
    attachment.file.save("a.pdf", ContentFile(FILE_TEXT), save=True)
    letter = RequestLetter(
        organisation=org,
        request=erasure,
        kind=RequestLetter.Kind.ANSWER,
        language="es",
        body=f"Estimada {NAME}, en respuesta a su solicitud…",
        sha256=hashlib.sha256(FILE_TEXT).hexdigest(),
        sent_at=timezone.now(),
        sent_via=RequestLetter.Via.EMAIL,
        sent_to=EMAIL,
    )
    letter.file.save("l.pdf", ContentFile(FILE_TEXT), save=True)
    # Something else on record that must survive: another person.
    other = DataSubjectFactory(organisation=org, full_name="Omar Haddad", phone="+34699887766")
    grant(other, citas, notice)
    return subject, erasure, letter, other


def test_after_the_purge_nothing_of_the_person_is_left_anywhere_and_the_ledger_verifies(
    org, dpo, client, django_capture_on_commit_callbacks
):
    subject, erasure, letter, other = _everything(
        org, dpo, client, django_capture_on_commit_callbacks
    )
    assert _database_hits() and _media_hits()  # the search finds them before: it can fail
    fulfilment.erasure_carry_out(rights_request=erasure, user=dpo)
    subject.refresh_from_db()
    assert subject.status == DataSubject.Status.BLOCKED
    events_before = list(ConsentEvent.objects.order_by("pk").values_list("pk", "hash"))

    # Not yet due: the nightly task leaves a blocked person alone.
    assert purge_blocked_subjects.apply().get() == []
    with (
        time_machine.travel(subject.purge_after + datetime.timedelta(days=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        purged = purge_blocked_subjects.apply().get()
    assert purged == [subject.pk]

    assert _database_hits() == []
    assert _media_hits() == []
    # The address of an answer typed on a poster was kept outside the ledger: gone too.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM consents_unconfirmedanswer WHERE ip_address IS NOT NULL"
        )
        assert cursor.fetchone()[0] == 0
    assert not Job.objects.filter(kind="certificate", result_expired=False).exclude(result="")
    # The ledger is as it was, and verifies.
    assert list(ConsentEvent.objects.order_by("pk").values_list("pk", "hash")) == events_before
    assert services.ledger_verify(organisation=org).ok
    # The tombstone: no personal data; when, and under which request.
    tombstone = DataSubject.objects.get(pk=subject.pk)
    assert tombstone.status == DataSubject.Status.PURGED
    assert tombstone.erasure_request_pk == erasure.pk and tombstone.purged_at is not None
    assert (tombstone.full_name, tombstone.phone, tombstone.email) == ("", None, "")
    assert str(tombstone) == f"Purged person #{subject.pk}"
    erasure.refresh_from_db()
    assert erasure.purged_at is not None and erasure.carried_out["blocked"] is True
    letter.refresh_from_db()
    assert letter.sha256 == hashlib.sha256(FILE_TEXT).hexdigest() and letter.sent_at
    assert (letter.body, letter.file.name) == ("", "")
    assert ProofFile.objects.get(proof__subject=subject).sha256  # the ledger's digest stays
    assert SuppressedNumber.objects.filter(organisation=org).count() == 1
    assert not ConsentLink.objects.active().filter(subject=subject).exists()
    assert GroupMembership.objects.filter(subject=subject).exists()  # the stay, without a name
    assert AuditEntry.objects.filter(register="datasubject", object_id=str(subject.pk)).exists()
    # The other person is untouched.
    other.refresh_from_db()
    assert other.full_name == "Omar Haddad" and other.phone.as_e164 == "+34699887766"

    # Idempotent: a second run finds nobody.
    with time_machine.travel(subject.purge_after + datetime.timedelta(days=2)):
        assert purge.purge_due() == []


def test_a_purged_persons_number_can_join_again_as_a_new_person(org, dpo):
    purpose = PurposeFactory(organisation=org, category=PurposeCategory.APPOINTMENTS)
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org, phone=PHONE)
    fulfilment.erasure_carry_out(rights_request=rights_request(subject, Right.ERASURE), user=dpo)
    subject.refresh_from_db()
    with time_machine.travel(subject.purge_after + datetime.timedelta(days=1)):
        purge.subject_purge(subject=subject)
    result = services.consent_capture(
        organisation=org,
        person=services.PersonDetails(phone=parse_phone(PHONE, "ES"), full_name="Nueva"),
        act=ConsentAct(
            decisions=[Decision(purpose, Action.GRANTED, notice)],
            channel=Channel.IN_PERSON,
            recorded_by=dpo,
        ),
    )
    assert result.subject_created and result.subject.pk != subject.pk


def test_nobody_is_purged_before_the_end_of_the_blocking_period(org, dpo):
    subject = DataSubjectFactory(organisation=org, full_name=NAME)
    with pytest.raises(ValueError, match="not blocked"):
        purge.subject_purge(subject=subject)
    fulfilment.erasure_carry_out(rights_request=rights_request(subject, Right.ERASURE), user=dpo)
    with pytest.raises(ValueError, match="blocked until"):
        purge.subject_purge(subject=subject)
    subject.refresh_from_db()
    assert subject.full_name == NAME


def test_the_command_lists_who_is_due_and_purges_them(org, dpo, capsys):
    subject = DataSubjectFactory(organisation=org, full_name=NAME)
    fulfilment.erasure_carry_out(rights_request=rights_request(subject, Right.ERASURE), user=dpo)
    subject.refresh_from_db()
    with time_machine.travel(subject.purge_after + datetime.timedelta(days=1)):
        call_command("purge_blocked", "--dry-run")
        assert f"subject {subject.pk}: blocked until" in capsys.readouterr().out
        assert DataSubject.objects.get(pk=subject.pk).status == DataSubject.Status.BLOCKED
        call_command("purge_blocked")
        assert f"subject {subject.pk}: purged" in capsys.readouterr().out
    assert DataSubject.objects.get(pk=subject.pk).status == DataSubject.Status.PURGED


def test_the_nightly_purge_is_on_the_beat_schedule():
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "rights_requests.tasks.purge_blocked_subjects" in entries


def test_requests_keep_their_dates_and_outcome_after_the_purge(org, dpo):
    subject = DataSubjectFactory(organisation=org, full_name=NAME, phone=PHONE)
    erasure = rights_request(subject, Right.ERASURE, details=f"Soy {NAME}")
    fulfilment.erasure_carry_out(rights_request=erasure, user=dpo)
    subject.refresh_from_db()
    with time_machine.travel(subject.purge_after + datetime.timedelta(days=1)):
        purge.subject_purge(subject=subject)
    erasure = RightsRequest.objects.get(pk=erasure.pk)
    assert erasure.details == "" and erasure.received_on and erasure.current_due_on
    assert erasure.carried_out_at and erasure.carried_out["purge_after"]
    history = list(erasure.history.all())
    assert history[0].purged_at is not None
    assert all(NAME not in (row.details or "") for row in history)
