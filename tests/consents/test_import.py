"""Legacy consent import: checked row by row first, then all recorded or nothing."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import AuditEntry
from consents import import_views, imports
from consents.acts import ConsentAct, Decision, PersonDetails
from consents.models import (
    Action,
    Channel,
    ConsentEvent,
    ConsentState,
    DataSubject,
    NoticeVersion,
    Proof,
)
from consents.services import (
    consent_record,
    ledger_verify_chain,
    subject_find_or_create,
)
from tests.consents.factories import PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db

HEADER = "phone,full_name,purpose,action,captured_at\n"


@pytest.fixture
def purposes(org):
    marketing = PurposeFactory(organisation=org, code="marketing", name="Ofertas")
    appointments = PurposeFactory(organisation=org, code="appointments", name="Citas")
    return {"marketing": marketing, "appointments": appointments}


@pytest.fixture
def notice(purposes):
    return published_notice(purposes=list(purposes.values()), version="2023-01")


def _file(text: str, *, encoding="utf-8", name="legacy.csv") -> io.BytesIO:
    fileobj = io.BytesIO(text.encode(encoding))
    fileobj.name = name
    return fileobj


def _check(org, text, **kwargs):
    return imports.import_check(organisation=org, fileobj=_file(text, **kwargs))


def _apply(org, text, user=None, **kwargs):
    return imports.import_apply(organisation=org, fileobj=_file(text, **kwargs), imported_by=user)


CLEAN = (
    HEADER
    + "600 12 34 56,Lucía Pérez,marketing,granted,2023-05-02 10:15\n"
    + "+34 611 22 33 44,Omar Haddad,appointments,granted,2023-06-01\n"
    + "600123456,Lucía Pérez,appointments,refused,2023-06-02T09:00:00+02:00\n"
    + "0034 600-123-456,Lucía Pérez,marketing,withdrawn,2024-01-10\n"
)


def test_a_clean_file_is_checked_without_changing_anything(org, notice):
    report = _check(org, CLEAN)

    assert report.ok
    assert report.rows == 4
    assert (report.subjects_new, report.subjects_existing) == (2, 0)
    assert report.events == {"granted": 2, "refused": 1, "withdrawn": 1}
    assert len(report.sha256) == 64
    assert not DataSubject.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_clean_file_imports_with_channel_import_and_the_ledger_verifies(
    org, dpo, purposes, notice
):
    result = _apply(org, CLEAN, dpo)

    assert not result.already_imported
    assert result.events_recorded == 4
    assert (result.subjects_created, result.subjects_existing) == (2, 0)
    events = list(ConsentEvent.objects.filter(organisation=org).order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert (result.first_sequence, result.last_sequence) == (1, 4)
    assert {e.channel for e in events} == {Channel.IMPORT}
    assert {e.recorded_by for e in events} == {dpo}
    assert events[0].notice_version == notice
    assert events[0].captured_at == datetime.datetime(
        2023, 5, 2, 10, 15, tzinfo=ZoneInfo("Europe/Madrid")
    )
    lucia = DataSubject.objects.get(organisation=org, phone="+34600123456")
    assert lucia.full_name == "Lucía Pérez"
    states = {
        (s.subject.full_name, s.purpose.code): s.action
        for s in ConsentState.objects.filter(organisation=org).select_related("subject", "purpose")
    }
    assert states == {
        ("Lucía Pérez", "marketing"): Action.WITHDRAWN,
        ("Lucía Pérez", "appointments"): Action.REFUSED,
        ("Omar Haddad", "appointments"): Action.GRANTED,
    }
    proof = events[0].proof
    assert proof.subject == lucia
    assert proof.note == f"Imported from legacy.csv, SHA-256 {result.sha256}"
    assert events[0].proof_digests[0]["kind"] == "quote"
    assert ledger_verify_chain(organisation=org).ok
    assert AuditEntry.objects.filter(organisation=org, register="consentevent").exists()


def test_a_file_with_one_bad_row_reports_that_row_and_imports_nothing(org, dpo, notice):
    text = CLEAN.replace("2023-06-01", "2023-13-01")

    report = _check(org, text)
    with pytest.raises(ValidationError) as refused:
        _apply(org, text, dpo)

    assert report.error_count == 1
    (error,) = report.errors
    assert (error.row, error.column) == (3, "captured_at")
    assert "2023-13-01" in error.message
    assert refused.value.report.errors == report.errors
    assert not ConsentEvent.objects.exists()
    assert not DataSubject.objects.exists()
    assert not Proof.objects.exists()


def test_the_same_file_imported_twice_is_recorded_once(org, dpo, notice):
    first = _apply(org, CLEAN, dpo)
    second = _apply(org, CLEAN, dpo)

    assert second.already_imported
    assert ConsentEvent.objects.filter(organisation=org).count() == 4
    assert (second.first_sequence, second.last_sequence) == (1, 4)
    assert second.sha256 == first.sha256
    assert DataSubject.objects.filter(organisation=org).count() == 2


def test_semicolons_a_bom_and_mixed_phone_formats_are_accepted(org, dpo, notice):
    text = (
        "Phone;Full Name;Purpose;Action;Captured_At;Email\r\n"
        "600 12 34 56;Pérez, Lucía;marketing;granted;2023-05-02;lucia@example.org\r\n"
        "+34 (611) 22-33-44;Omar Haddad;marketing;granted;2023-05-03;\r\n"
        "0034.622.334.455;Nadia Benali;marketing;granted;2023-05-04;\r\n"
        "\r\n"
        "+34600123456;Pérez, Lucía;appointments;granted;2023-05-05;\r\n"
    )

    result = imports.import_apply(
        organisation=org, fileobj=_file(text, encoding="utf-8-sig"), imported_by=dpo
    )

    assert result.events_recorded == 4
    phones = set(DataSubject.objects.filter(organisation=org).values_list("phone", flat=True))
    assert {p.as_e164 for p in phones} == {"+34600123456", "+34611223344", "+34622334455"}
    assert DataSubject.objects.get(phone="+34600123456").email == "lucia@example.org"


def test_a_phone_with_letters_is_a_row_error(org, notice):
    report = _check(org, HEADER + "600ABC123,Lucía Pérez,marketing,granted,2023-05-02\n")

    (error,) = report.errors
    assert (error.row, error.column) == (2, "phone")
    assert "no letters" in error.message


def test_a_withdrawal_without_an_earlier_grant_is_an_error(org, notice):
    text = (
        HEADER
        + "600123456,Lucía Pérez,marketing,withdrawn,2023-05-02\n"
        + "600123456,Lucía Pérez,marketing,granted,2023-06-02\n"
    )

    report = _check(org, text)

    (error,) = report.errors
    assert (error.row, error.column) == (2, "action")
    assert "Nothing to withdraw" in error.message


def test_a_withdrawal_of_a_grant_held_in_the_register_is_accepted(org, dpo, purposes, notice):
    subject, _created = subject_find_or_create(
        organisation=org, person=PersonDetails(phone="+34600123456", full_name="Lucía Pérez")
    )
    grant(
        subject,
        purposes["marketing"],
        notice,
        captured_at=datetime.datetime(2022, 1, 1, tzinfo=datetime.UTC),
    )

    result = _apply(org, HEADER + "600123456,Lucía Pérez,marketing,withdrawn,2023-05-02\n", dpo)

    assert (result.subjects_created, result.subjects_existing) == (0, 1)
    state = ConsentState.objects.get(subject=subject, purpose=purposes["marketing"])
    assert state.action == Action.WITHDRAWN
    assert ledger_verify_chain(organisation=org).ok


def test_a_row_older_than_the_register_cannot_replace_a_later_answer(org, purposes, notice):
    subject, _created = subject_find_or_create(
        organisation=org, person=PersonDetails(phone="+34600123456", full_name="Lucía Pérez")
    )
    consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[Decision(purpose=purposes["marketing"], action=Action.REFUSED)],
            channel=Channel.WHATSAPP,
            captured_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        ),
    )

    report = _check(org, HEADER + "600123456,Lucía Pérez,marketing,granted,2023-05-02\n")

    (error,) = report.errors
    assert error.column == "captured_at"
    assert "later answer" in error.message


def test_missing_columns_are_reported_on_the_header_row(org, notice):
    report = _check(org, "phone,name,purpose,action\n600123456,Lucía,marketing,granted\n")

    assert {(e.row, e.column) for e in report.errors} == {(1, "full_name"), (1, "captured_at")}
    assert report.warnings[0].column == "name"


def test_unknown_columns_are_ignored_but_cells_beyond_the_header_are_errors(org, notice):
    text = (
        "phone,full_name,purpose,action,captured_at,notes\n"
        "600123456,Lucía Pérez,marketing,granted,2023-05-02,called back\n"
        "611223344,Omar Haddad,marketing,granted,2023-05-02,,\n"
        "622334455,Nadia Benali,marketing,granted,2023-05-02,,stray\n"
    )

    report = _check(org, text)

    assert [(w.row, w.column) for w in report.warnings] == [(1, "notes")]
    assert [e.row for e in report.errors] == [4]
    assert "7 cells; the header has 6" in report.errors[0].message


def test_rows_that_contradict_each_other_are_errors(org, notice):
    text = (
        HEADER
        + "600123456,Lucía Pérez,marketing,granted,2023-05-02\n"
        + "600123456,Lucia Perez Gil,appointments,granted,2023-05-02\n"
        + "600123456,Lucía Pérez,marketing,granted,2023-05-02\n"
        + "611223344,Omar Haddad,appointments,granted,2023-05-02\n"
        + "611223344,Omar Haddad,appointments,refused,2023-04-01\n"
    )

    report = _check(org, text)

    found = {(e.row, e.column, e.message) for e in report.errors}
    assert (
        3,
        "full_name",
        "Row 2 gives “Lucía Pérez” for this number: one number is one person.",
    ) in found
    assert (4, "", "Same as row 2.") in found
    assert any(row == 6 and "chronological order" in message for row, _c, message in found)
    assert report.error_count == 3


def test_unknown_purposes_actions_and_future_dates_are_errors(org, notice):
    text = (
        HEADER
        + "600123456,Lucía Pérez,newsletter,granted,2023-05-02\n"
        + "611223344,Omar Haddad,marketing,accepted,2023-05-02\n"
        + "622334455,Nadia Benali,marketing,granted,2999-01-01\n"
    )

    report = _check(org, text)

    assert [(e.row, e.column) for e in report.errors] == [
        (2, "purpose"),
        (3, "action"),
        (4, "captured_at"),
    ]
    assert "appointments, marketing" in report.errors[0].message


def test_blocked_people_are_errors(org, notice):
    subject, _created = subject_find_or_create(
        organisation=org, person=PersonDetails(phone="+34600123456", full_name="Lucía Pérez")
    )
    DataSubject.objects.filter(pk=subject.pk).update(
        status=DataSubject.Status.BLOCKED,
        blocked_at=timezone.now(),
        purge_after=timezone.localdate() + datetime.timedelta(days=1),
    )

    report = _check(org, HEADER + "600123456,Lucía Pérez,marketing,granted,2023-05-02\n")

    (error,) = report.errors
    assert "blocked" in error.message


def test_a_grant_is_tied_to_the_notice_the_person_would_be_shown(org, purposes):
    # One rule for every page and the import (consents.rules.choose_notice): the person's
    # language, else the organisation's, else the latest in any language. The import used to
    # refuse row 2 where the consent page showed the English notice: the copies had drifted.
    english = published_notice(purposes=[purposes["marketing"]], version="v1", language="en")
    text = "phone,full_name,purpose,action,captured_at,language,notice_version\n"

    report = _check(
        org,
        text
        + "600123456,Lucía Pérez,marketing,granted,2023-05-02,es,\n"
        + "611223344,Omar Haddad,marketing,granted,2023-05-02,en,\n"
        + "622334455,Nadia Benali,marketing,granted,2023-05-02,ar,v1\n"
        + "633445566,Ana Ruiz,marketing,granted,2023-05-02,es,v9\n"
        + "644556677,Eva Gil,appointments,granted,2023-05-02,es,\n",
    )

    assert [(e.row, e.column) for e in report.errors] == [
        (5, "notice_version"),
        (6, "notice_version"),
    ]
    assert "GDPR Art. 13" in report.errors[1].message
    assert NoticeVersion.objects.to_show(purposes["marketing"], "es") == english


def test_a_named_notice_version_is_the_one_recorded(org, dpo, purposes, notice):
    older = notice
    published_notice(purposes=[purposes["marketing"]], version="2024-01")
    text = "phone;full_name;purpose;action;captured_at;notice_version\n"

    _apply(org, text + "600123456;Lucía Pérez;marketing;granted;2023-05-02;2023-01\n", dpo)

    assert ConsentEvent.objects.get().notice_version == older


def test_a_file_that_is_not_utf8_is_refused(org, notice):
    report = _check(org, CLEAN.replace("Omar", "Ñoño"), encoding="latin-1")

    assert not report.ok
    assert "CSV UTF-8" in report.errors[0].message


def test_an_empty_file_is_an_error(org):
    assert not _check(org, "").ok
    assert not _check(org, HEADER).ok


def test_progress_is_reported_every_so_many_rows_and_at_the_end(org, dpo, notice, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 10)
    text = HEADER + "".join(
        f"+3460{n:07d},Persona {n},marketing,granted,2023-05-02\n" for n in range(25)
    )
    calls = []

    imports.import_apply(
        organisation=org,
        fileobj=_file(text),
        imported_by=dpo,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_ten_thousand_generated_rows_import(org, dpo):
    # The shape of a real legacy list: each person answered several purposes at once, and some
    # withdrew one later. 2,000 people x 5 rows.
    codes = ["marketing", "appointments", "documents", "informational"]
    purposes = [PurposeFactory(organisation=org, code=code) for code in codes]
    published_notice(purposes=purposes, version="2023-01")
    lines = [HEADER]
    for n in range(2000):
        phone = f"+3460{n:07d}"
        lines += [f"{phone},Persona {n},{code},granted,2023-05-02 10:00\n" for code in codes]
        lines.append(f"{phone},Persona {n},marketing,withdrawn,2024-02-01\n")

    result = _apply(org, "".join(lines), dpo)

    assert result.events_recorded == 10_000
    assert result.subjects_created == 2000
    assert ConsentState.objects.granted_for(purposes[0]).count() == 0
    assert ConsentState.objects.granted_for(purposes[1]).count() == 2000
    assert ledger_verify_chain(organisation=org).ok


# --- the command ------------------------------------------------------------------------------


def _run_command(*argv):
    """Run the command and return the exit code `manage.py import_consents ...` would give.

    Not through run_from_argv: it closes every database connection when it ends, which on
    PostgreSQL closes the test's own transaction.
    """
    try:
        call_command("import_consents", *argv)
    except CommandError as error:
        return error.returncode
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_the_command_exits_with_an_error_code_when_the_file_has_errors(
    org, dpo, notice, tmp_path, capsys
):
    path = tmp_path / "legacy.csv"
    path.write_text(HEADER + "600ABC123,Lucía Pérez,marketing,granted,2023-05-02\n")

    code = _run_command("--org", org.slug, str(path), "--as", dpo.email)

    assert code == 1
    output = capsys.readouterr()
    assert "row 2 phone" in output.out
    assert not ConsentEvent.objects.exists()


def test_the_command_checks_only_when_asked(org, notice, tmp_path, capsys):
    path = tmp_path / "legacy.csv"
    path.write_text(CLEAN)

    code = _run_command("--org", org.slug, str(path), "--check-only")

    assert code == 0
    assert "no errors" in capsys.readouterr().out
    assert not ConsentEvent.objects.exists()


def test_the_command_imports_as_a_member_who_may_import(org, dpo, notice, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(CLEAN)
    out = io.StringIO()

    call_command("import_consents", str(path), org=org.slug, as_email=dpo.email, stdout=out)

    assert "Imported legacy.csv" in out.getvalue()
    assert set(ConsentEvent.objects.values_list("recorded_by", flat=True)) == {dpo.pk}


def test_the_command_refuses_a_member_who_may_not_import(org, staff, notice, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(CLEAN)

    with pytest.raises(CommandError, match="may not import"):
        call_command("import_consents", str(path), org=org.slug, as_email=staff.email)
    assert not ConsentEvent.objects.exists()


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def import_url(org):
    try:
        return reverse("consents:import", kwargs={"org_slug": org.slug})
    except NoReverseMatch:
        pytest.skip("consents:import is not routed yet (consents/urls.py)")


def _upload(text: str, name="legacy.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_dpo_sees_the_upload_form(client, dpo, purposes, import_url):
    client.force_login(dpo)

    response = client.get(import_url)

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b"<code>marketing</code>" in response.content


def test_staff_may_not_import(client, staff, import_url):
    client.force_login(staff)

    assert client.get(import_url).status_code == 403


def test_the_page_lists_the_errors_of_a_file_and_offers_no_import(client, dpo, notice, import_url):
    client.force_login(dpo)
    text = HEADER + "600ABC123,Lucía Pérez,marketing,granted,2023-05-02\n"

    response = client.post(import_url, {"check": "1", "file": _upload(text)})

    assert response.status_code == 200
    assert response.context["report"].error_count == 1
    assert b'data-testid="import-errors"' in response.content
    assert b'name="apply"' not in response.content
    assert not ConsentEvent.objects.exists()


def test_the_dpo_checks_then_confirms_and_the_file_is_imported(
    client, org, dpo, notice, import_url, settings
):
    client.force_login(dpo)

    checked = client.post(import_url, {"check": "1", "file": _upload(CLEAN)})
    sha256 = checked.context["report"].sha256
    assert b'name="apply"' in checked.content
    assert not ConsentEvent.objects.exists()
    applied = client.post(import_url, {"apply": "1", "sha256": sha256}, REMOTE_ADDR="203.0.113.7")

    assert applied.status_code == 200
    result = applied.context["result"]
    assert (result.events_recorded, result.first_sequence, result.last_sequence) == (4, 1, 4)
    assert b"#1 to #4" in applied.content
    events = ConsentEvent.objects.filter(organisation=org)
    assert events.count() == 4
    assert Proof.objects.first().note == f"Imported from legacy.csv, SHA-256 {sha256}"
    assert not list((settings.MEDIA_ROOT / "imports").rglob("*.csv"))
    audit = AuditEntry.objects.get(register="consentevent", user=dpo)
    assert audit.ip_address == "203.0.113.7"
    assert {"field": "sha256", "new": sha256} in audit.changes


def test_a_file_too_large_for_the_page_is_imported_by_a_background_job_with_progress(
    client, dpo, notice, import_url, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from jobs.models import Job

    monkeypatch.setattr(import_views, "PAGE_MAX_ROWS", 2)
    client.force_login(dpo)

    # The check runs in the background too (a 200,000-row file outlasts a page's 60 s).
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(import_url, {"check": "1", "file": _upload(CLEAN)})
    assert queued.status_code == 302 and "?job=" in queued["Location"]
    check = Job.objects.get(kind="import_check")
    assert check.status == Job.Status.DONE and check.progress_done == 4
    checked = client.get(queued["Location"])
    assert b"in the background" in checked.content
    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(
            import_url, {"apply": "1", "sha256": checked.context["report"].sha256}
        )

    assert applied.status_code == 302 and applied["Location"].endswith("/exports/")
    job = Job.objects.get(kind="import")
    assert job.status == Job.Status.DONE, job.error
    assert job.outcome["events"] == ConsentEvent.objects.count() == 4
    assert job.progress_done == job.progress_total == 4  # rows of the file
    assert not list((settings.MEDIA_ROOT / "imports").rglob("*.csv"))
    page = client.get(applied["Location"]).content.decode()
    assert 'data-testid="import-outcome"' in page and "4 events recorded" in page


def test_a_background_check_shows_its_progress_then_its_report(
    client, dpo, notice, import_url, monkeypatch
):
    from consents import runners
    from jobs.models import Job

    monkeypatch.setattr(import_views, "PAGE_MAX_ROWS", 2)
    client.force_login(dpo)
    queued = client.post(import_url, {"check": "1", "file": _upload(CLEAN + "bad,row\n")})
    job = Job.objects.get(kind=runners.IMPORT_CHECK)
    running = client.get(queued["Location"]).content.decode()
    assert 'data-testid="import-checking"' in running and 'hx-trigger="every 2s"' in running

    from jobs import services as jobs

    jobs.job_run_here(job=job, worker="test")
    polled = client.get(queued["Location"], HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"
    report = client.get(queued["Location"])
    assert report.context["report"].error_count >= 1
    assert 'data-testid="import-errors"' in report.content.decode()
    listing = client.get(reverse("jobs:list", args=[dpo.memberships.first().organisation.slug]))
    assert 'data-testid="import-check-outcome"' in listing.content.decode()
    assert client.get(import_url + "?job=abc").status_code == 404


def test_only_the_session_that_checked_a_file_can_confirm_it(client, dpo, notice, import_url):
    client.force_login(dpo)
    sha256 = (
        client.post(import_url, {"check": "1", "file": _upload(CLEAN)}).context["report"].sha256
    )
    client.logout()
    client.force_login(dpo)

    response = client.post(import_url, {"apply": "1", "sha256": sha256})

    assert response.status_code == 302
    assert not ConsentEvent.objects.exists()


def test_a_confirmation_naming_no_checked_file_records_nothing(client, dpo, notice, import_url):
    client.force_login(dpo)

    for forged in ("../../settings", "0" * 64):
        response = client.post(import_url, {"apply": "1", "sha256": forged})
        assert response.status_code == 302
    assert not ConsentEvent.objects.exists()
