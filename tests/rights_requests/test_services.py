"""Every write on the register, happy and unhappy (rights_requests.services)."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from consents import services as consent_services
from consents.models import DataSubject
from consents.uploads import inspect_upload
from rights_requests import services
from rights_requests.choices import (
    ErasureException,
    LetterKind,
    RequestChannel,
    RequestStatus,
    Right,
    SentVia,
    VerificationMethod,
)
from rights_requests.models import IdentityCode, RequestLetter, RightsRequest
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.consents.factories import DataSubjectFactory, PurposeFactory
from tests.rights_requests.factories import carried_out, logged_request, verified_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_letters")]

# A Wednesday; 31 January 2027 + 1 month = 28 February, a Sunday: due Monday 1 March.
TODAY = datetime(2027, 2, 10, 10, 0)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def person(org):
    return DataSubjectFactory(
        organisation=org, full_name="Ana Ruiz", phone="+34600111222", email="ana@example.org"
    )


def _link(person):
    PurposeFactory(organisation=person.organisation)
    return consent_services.consent_link_for_subject(subject=person, created_by=None)


# --- logging --------------------------------------------------------------------------------


def test_a_logged_request_stores_its_computed_due_dates(org, dpo, person):
    rr = logged_request(org, user=dpo, subject=person, received_on=date(2027, 1, 31))
    rr.refresh_from_db()
    assert (rr.due_on, rr.current_due_on) == (date(2027, 3, 1), date(2027, 3, 1))
    assert rr.subject == person
    assert rr.logged_by == dpo
    assert rr.history.count() == 1
    assert rr.history.first().history_user == dpo


def test_an_email_request_waits_for_identity(org, dpo, person):
    rr = logged_request(org, user=dpo, subject=person, channel=RequestChannel.EMAIL)
    assert rr.status == RequestStatus.IDENTITY
    assert rr.identity_verified_at is None


def test_a_whatsapp_message_from_the_number_on_record_is_verified_at_once(org, staff, person):
    rr = logged_request(org, user=staff, subject=person, channel=RequestChannel.WHATSAPP)
    assert rr.status == RequestStatus.RECEIVED
    assert (rr.identity_method, rr.identity_verified_by) == (VerificationMethod.PHONE_MATCH, staff)


def test_a_whatsapp_message_from_an_unknown_number_is_not_verified(org, staff):
    rr = services.request_log(
        organisation=org,
        right=Right.ACCESS,
        channel=RequestChannel.WHATSAPP,
        received_on=date(2027, 2, 9),
        user=staff,
        phone="+34611999888",
        name="Pedro Sanz",
    )
    assert rr.subject is None
    assert rr.status == RequestStatus.IDENTITY
    assert rr.requester_name == "Pedro Sanz"


def test_an_id_seen_in_person_verifies_when_the_request_is_logged(org, staff, person):
    rr = logged_request(
        org,
        user=staff,
        subject=person,
        channel=RequestChannel.IN_PERSON,
        identity_method=VerificationMethod.ID_IN_PERSON,
        identity_note="DNI visto",
    )
    assert rr.identity_method == VerificationMethod.ID_IN_PERSON
    assert rr.identity_note == "DNI visto"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"received_on": date(2027, 2, 11)}, "in the future"),
        ({"received_on": date(2026, 2, 1)}, "more than a year ago"),
        ({"right": Right.RECTIFICATION}, "what is to be corrected"),
        ({"right": "forgetting"}, "Choose the right"),
        ({"channel": RequestChannel.PERSONAL_LINK}, "Choose how the request reached"),
        ({"identity_method": VerificationMethod.OTHER}, "Describe how"),
        ({"identity_method": VerificationMethod.PHONE_MATCH}, "request's page"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_logged(org, staff, person, fields, message):
    with pytest.raises(ValidationError, match=message):
        logged_request(org, user=staff, subject=person, **fields)
    assert not RightsRequest.objects.exists()


def test_someone_not_on_record_must_say_who_they_are(org, staff):
    with pytest.raises(ValidationError, match="Nobody on record has this number"):
        services.request_log(
            organisation=org,
            right=Right.ACCESS,
            channel=RequestChannel.PHONE,
            received_on=date(2027, 2, 9),
            user=staff,
            phone="+34611999888",
        )


def test_attachments_are_kept_with_their_digest(org, staff, person):
    upload = inspect_upload(
        SimpleUploadedFile("carta.pdf", b"%PDF-1.4\nsolicitud\n", content_type="application/pdf")
    )
    rr = logged_request(org, user=staff, subject=person, attachments=[upload])
    (attachment,) = rr.attachments.all()
    assert attachment.sha256 == upload.sha256
    assert attachment.file.read() == b"%PDF-1.4\nsolicitud\n"
    assert "carta" not in attachment.file.name  # stored under a random name


# --- the person's own intake ----------------------------------------------------------------


def test_a_request_from_the_personal_link_counts_as_verified(org, person):
    person.preferred_language = "ar"
    person.save()
    rr = services.request_from_link(link=_link(person), right=Right.ERASURE)
    assert rr.channel == RequestChannel.PERSONAL_LINK
    assert rr.identity_method == VerificationMethod.PERSONAL_LINK
    assert rr.status == RequestStatus.RECEIVED
    assert rr.language == "ar"
    assert rr.received_on == date(2027, 2, 10)


def test_asking_twice_from_the_link_says_when_the_first_was_made(org, person):
    link = _link(person)
    first = services.request_from_link(link=link, right=Right.ACCESS)
    with pytest.raises(ValidationError, match=first.reference):
        services.request_from_link(link=link, right=Right.ACCESS)
    assert RightsRequest.objects.count() == 1


def test_a_correction_from_the_link_says_what_to_correct(org, person):
    with pytest.raises(ValidationError, match="corrected"):
        services.request_from_link(link=_link(person), right=Right.RECTIFICATION)


def test_a_blocked_person_s_link_takes_no_request(org, person):
    link = _link(person)
    DataSubject.objects.filter(pk=person.pk).update(
        status=DataSubject.Status.BLOCKED, blocked_at=timezone.now(), purge_after=date(2030, 1, 1)
    )
    with pytest.raises(ValidationError):
        services.request_from_link(link=link, right=Right.ACCESS)


def test_the_public_form_matches_the_number_silently_and_waits_for_identity(org, person):
    rr = services.request_from_public_form(
        organisation=org, right=Right.ACCESS, name="Ana", phone=person.phone, language="es"
    )
    assert rr.subject == person
    assert rr.status == RequestStatus.IDENTITY
    assert rr.channel == RequestChannel.WEB_FORM


def test_the_public_form_needs_a_way_to_answer(org):
    with pytest.raises(ValidationError, match="phone number or an e-mail"):
        services.request_from_public_form(organisation=org, right=Right.ACCESS, name="Ana")


# --- identity ------------------------------------------------------------------------------


def test_verifying_records_how_and_by_whom(org, staff, person):
    rr = logged_request(org, subject=person, email="Ana@example.org")
    rr = services.request_verify_identity(
        rights_request=rr, method=VerificationMethod.EMAIL_MATCH, user=staff
    )
    assert rr.status == RequestStatus.RECEIVED
    assert (rr.identity_method, rr.identity_verified_by) == (VerificationMethod.EMAIL_MATCH, staff)


def test_a_match_must_be_a_match(org, staff, person):
    rr = logged_request(org, subject=person, email="someone.else@example.org")
    with pytest.raises(ValidationError, match="not the one on record"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.EMAIL_MATCH, user=staff
        )
    rr.refresh_from_db()
    assert rr.identity_verified_at is None


def test_the_personal_link_method_is_not_for_staff(org, staff, person):
    rr = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="Choose how"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.PERSONAL_LINK, user=staff
        )


def test_verifying_twice_is_refused(org, staff, person):
    rr = verified_request(org, subject=person)
    with pytest.raises(ValidationError, match="verified already"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ID_IN_PERSON, user=staff
        )


def test_the_one_time_code_read_from_the_personal_link_verifies(org, staff, person):
    rr = logged_request(org, subject=person)
    code = services.request_identity_code_issue(rights_request=rr, link=_link(person))
    assert len(code) == 6 and code.isdigit()
    stored = IdentityCode.objects.get(request=rr)
    assert code not in stored.code_hash
    rr = services.request_verify_identity(
        rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=code
    )
    assert rr.identity_method == VerificationMethod.ONE_TIME_CODE
    stored.refresh_from_db()
    assert stored.used_at is not None


def test_a_wrong_code_counts_and_five_void_it(org, staff, person):
    rr = logged_request(org, subject=person)
    code = services.request_identity_code_issue(rights_request=rr, link=_link(person))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, 5):
        with pytest.raises(ValidationError, match="not the code"):
            services.request_verify_identity(
                rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=wrong
            )
        assert IdentityCode.objects.get(request=rr).attempts == attempt
    with pytest.raises(ValidationError, match="too many times"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=wrong
        )
    # Even the right code is refused now: the person must show a new one.
    with pytest.raises(ValidationError, match="No code is waiting"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=code
        )
    rr.refresh_from_db()
    assert rr.identity_verified_at is None


def test_a_code_expires(org, staff, person):
    rr = logged_request(org, subject=person)
    code = services.request_identity_code_issue(rights_request=rr, link=_link(person))
    later = time_machine.travel(TODAY + timedelta(minutes=31), tick=False)
    with later, pytest.raises(ValidationError, match="expired"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=code
        )


def test_a_new_code_replaces_the_old_one(org, staff, person):
    rr = logged_request(org, subject=person)
    link = _link(person)
    old = services.request_identity_code_issue(rights_request=rr, link=link)
    new = services.request_identity_code_issue(rights_request=rr, link=link)
    if old != new:
        with pytest.raises(ValidationError):
            services.request_verify_identity(
                rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=old
            )
    services.request_verify_identity(
        rights_request=rr, method=VerificationMethod.ONE_TIME_CODE, user=staff, code=new
    )


def test_another_person_s_link_gets_no_code(org, person):
    rr = logged_request(org, subject=person)
    stranger = DataSubjectFactory(organisation=org)
    with pytest.raises(ValidationError, match="cannot confirm"):
        services.request_identity_code_issue(rights_request=rr, link=_link(stranger))


# --- the clock -----------------------------------------------------------------------------


def test_the_clock_stops_only_while_identity_is_awaited(org, dpo, person):
    rr = verified_request(org, subject=person)
    with pytest.raises(ValidationError, match="only while the person's identity"):
        services.request_stop_clock(rights_request=rr, reason="DNI", user=dpo)


def test_a_stopped_clock_needs_a_reason(org, dpo, person):
    rr = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="information is awaited"):
        services.request_stop_clock(rights_request=rr, reason=" ", user=dpo)


def test_days_the_clock_stood_still_move_the_due_date(org, dpo, person):
    rr = logged_request(org, subject=person, received_on=date(2027, 2, 1))
    assert rr.current_due_on == date(2027, 3, 1)
    rr = services.request_stop_clock(rights_request=rr, reason="Copia del DNI pedida", user=dpo)
    assert rr.clock_stopped_on == date(2027, 2, 10)
    # Stopped clocks are neither overdue nor due (their due date moves every day).
    assert not RightsRequest.objects.overdue(date(2027, 4, 1)).exists()
    assert services.projected_due_on(rr, date(2027, 2, 15)) == date(2027, 3, 8)
    with time_machine.travel(datetime(2027, 2, 15, 9, 0), tick=False):
        rr = services.request_restart_clock(rights_request=rr, user=dpo)
    assert rr.days_stopped == 5
    assert rr.clock_stopped_on is None
    # 1 February + 5 days = 6 February; + 1 month = 6 March, a Saturday: Monday 8 March.
    assert rr.current_due_on == date(2027, 3, 8)


def test_verifying_the_identity_starts_a_stopped_clock(org, dpo, staff, person):
    rr = logged_request(org, subject=person, received_on=date(2027, 2, 1))
    services.request_stop_clock(rights_request=rr, reason="DNI", user=dpo)
    with time_machine.travel(datetime(2027, 2, 13, 9, 0), tick=False):
        rr = services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ID_IN_PERSON, user=staff
        )
    assert (rr.days_stopped, rr.clock_stopped_on) == (3, None)


def test_an_overdue_request_cannot_stop_its_clock(org, dpo, person):
    rr = logged_request(org, subject=person, received_on=date(2027, 1, 4))
    assert rr.current_due_on == date(2027, 2, 4)
    with pytest.raises(ValidationError, match="overdue"):
        services.request_stop_clock(rights_request=rr, reason="DNI", user=dpo)


def test_restarting_a_running_clock_is_refused(org, dpo, person):
    rr = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="running already"):
        services.request_restart_clock(rights_request=rr, user=dpo)


# --- extension -----------------------------------------------------------------------------


def test_an_extension_within_the_first_month_is_notified_and_moves_the_due_date(org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 31))
    letter = services.request_extend(
        rights_request=rr,
        months=2,
        reason="Cinco años de historial en tres sistemas.",
        user=dpo,
        sent_via=SentVia.WHATSAPP,
        sent_to="+34 600 11 12 22",
    )
    rr.refresh_from_db()
    assert rr.status == RequestStatus.EXTENDED
    assert (rr.extension_months, rr.extension_notified_on) == (2, date(2027, 2, 10))
    # The first month is still 1 March; three months from 31 January: 30 April 2027 (Friday).
    assert (rr.due_on, rr.current_due_on) == (date(2027, 3, 1), date(2027, 4, 30))
    assert letter.kind == LetterKind.EXTENSION
    assert (letter.sent_via, letter.sent_to) == (SentVia.WHATSAPP, "+34 600 11 12 22")
    assert letter.sent_at is not None


def test_an_extension_on_the_last_day_of_the_first_month_is_allowed(org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 10))
    assert rr.due_on == date(2027, 2, 10)
    services.request_extend(
        rights_request=rr, months=1, reason="Complejo", user=dpo, sent_via=SentVia.POST
    )
    rr.refresh_from_db()
    assert rr.current_due_on == date(2027, 3, 10)


def test_an_extension_after_the_first_month_is_refused(org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 8))
    assert rr.due_on == date(2027, 2, 8)
    with pytest.raises(ValidationError, match="can no longer be extended"):
        services.request_extend(
            rights_request=rr, months=2, reason="Complejo", user=dpo, sent_via=SentVia.POST
        )
    rr.refresh_from_db()
    assert (rr.extension_months, rr.current_due_on) == (0, date(2027, 2, 8))
    assert not RequestLetter.objects.exists()


@pytest.mark.parametrize(
    ("months", "reason", "message"),
    [(2, "", "Give the reason"), (3, "Complejo", "one or two"), (0, "Complejo", "one or two")],
)
def test_an_extension_needs_a_reason_and_at_most_two_months(
    org, dpo, person, months, reason, message
):
    rr = verified_request(org, subject=person)
    with pytest.raises(ValidationError, match=message):
        services.request_extend(
            rights_request=rr, months=months, reason=reason, user=dpo, sent_via=SentVia.POST
        )
    rr.refresh_from_db()
    assert rr.extension_months == 0


def test_an_extension_by_email_needs_an_address(org, dpo):
    subject = DataSubjectFactory(organisation=org, email="")
    rr = verified_request(org, subject=subject)
    with pytest.raises(ValidationError, match="No e-mail address"):
        services.request_extend(
            rights_request=rr, months=1, reason="Complejo", user=dpo, sent_via=SentVia.EMAIL
        )
    rr.refresh_from_db()
    assert rr.extension_months == 0
    assert not RequestLetter.objects.exists()


def test_a_request_is_extended_once(org, dpo, person):
    rr = verified_request(org, subject=person)
    services.request_extend(rights_request=rr, months=1, reason="A", user=dpo, sent_via="post")
    with pytest.raises(ValidationError, match="extended already"):
        services.request_extend(rights_request=rr, months=1, reason="B", user=dpo, sent_via="post")


# --- handler -------------------------------------------------------------------------------


def test_a_handler_puts_the_request_in_progress(org, dpo, staff, person):
    rr = verified_request(org, subject=person)
    rr = services.request_assign(rights_request=rr, handler=staff, user=dpo)
    assert (rr.handled_by, rr.status) == (staff, RequestStatus.IN_PROGRESS)


@pytest.mark.parametrize("who", ["auditor", "outsider"])
def test_only_the_dpo_or_staff_of_the_organisation_handle_requests(org, cast, person, who):
    rr = verified_request(org, subject=person)
    with pytest.raises(ValidationError, match="Only the DPO or a staff member"):
        services.request_assign(rights_request=rr, handler=cast[who], user=cast["dpo"])


# --- outcomes ------------------------------------------------------------------------------


def test_answering_a_right_not_yet_carried_out_is_refused(org, dpo, person):
    rr = verified_request(org, subject=person, right=Right.ERASURE)
    with pytest.raises(ValidationError, match="Carry out the request first"):
        services.request_answer(
            rights_request=rr, answer="Hecho.", user=dpo, sent_via=SentVia.WHATSAPP
        )
    rr.refresh_from_db()
    assert rr.is_open and rr.closed_on is None
    assert not RequestLetter.objects.exists()


def test_an_answer_needs_the_identity_settled(org, dpo, person):
    rr = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="Verify who is asking"):
        services.request_answer(rights_request=rr, answer="Datos.", user=dpo, sent_via="post")


def test_an_answer_after_carrying_out_closes_on_time_with_a_sent_letter(org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 31))
    carried_out(rr, dpo)
    letter = services.request_answer(
        rights_request=rr, answer="Le enviamos sus datos.", user=dpo, sent_via=SentVia.IN_PERSON
    )
    rr.refresh_from_db()
    assert rr.status == RequestStatus.ANSWERED
    assert rr.closed_on == date(2027, 2, 10)
    assert rr.answered_on_time is True
    assert (letter.kind, letter.body, letter.sent_via) == (
        LetterKind.ANSWER,
        "Le enviamos sus datos.",
        SentVia.IN_PERSON,
    )
    assert RightsRequest.objects.answered_on_time().count() == 1


def test_an_answer_after_the_due_date_is_late(org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 5))
    carried_out(rr, dpo)
    services.request_answer(rights_request=rr, answer="Tarde.", user=dpo, sent_via="post")
    rr.refresh_from_db()
    assert rr.answered_on_time is False
    assert list(RightsRequest.objects.answered_late()) == [rr]


def test_an_art_17_3_exception_closes_an_erasure_without_erasing(org, dpo, person):
    rr = verified_request(org, subject=person, right=Right.ERASURE)
    services.request_answer(
        rights_request=rr,
        answer="Debemos conservar su historia clínica.",
        user=dpo,
        sent_via=SentVia.POST,
        erasure_exception=ErasureException.LEGAL_OBLIGATION,
    )
    rr.refresh_from_db()
    assert (rr.status, rr.erasure_exception) == (
        RequestStatus.ANSWERED,
        ErasureException.LEGAL_OBLIGATION,
    )


def test_an_erasure_exception_is_for_erasure_only(org, dpo, person):
    rr = verified_request(org, subject=person, right=Right.ACCESS)
    with pytest.raises(ValidationError, match="erasure only"):
        services.request_answer(
            rights_request=rr,
            answer="No.",
            user=dpo,
            sent_via="post",
            erasure_exception=ErasureException.LEGAL_CLAIMS,
        )


def test_an_answer_by_email_goes_with_the_pdf_after_the_commit(
    org, dpo, person, django_capture_on_commit_callbacks
):
    rr = verified_request(org, subject=person)
    carried_out(rr, dpo)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_answer(
            rights_request=rr, answer="Sus datos.", user=dpo, sent_via=SentVia.EMAIL
        )
    (message,) = mail.outbox
    assert message.to == ["ana@example.org"]
    assert rr.reference in message.subject
    ((name, content, content_type),) = message.attachments
    assert (content_type, content[:5]) == ("application/pdf", b"%PDF-")
    letter = RequestLetter.objects.get(kind=LetterKind.ANSWER)
    assert letter.sent_to == "ana@example.org"


def test_a_refusal_needs_reasons_and_sends_a_letter(org, dpo, person):
    rr = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="Give the reasons"):
        services.request_reject(rights_request=rr, reason="", user=dpo, sent_via="post")
    letter = services.request_reject(
        rights_request=rr,
        reason="No pudimos confirmar su identidad.",
        user=dpo,
        sent_via=SentVia.POST,
        sent_to="C/ Mayor 1, Madrid",
    )
    rr.refresh_from_db()
    assert (rr.status, rr.closed_on) == (RequestStatus.REJECTED, date(2027, 2, 10))
    assert rr.rejection_reason == "No pudimos confirmar su identidad."
    assert letter.kind == LetterKind.REJECTION


def test_a_withdrawn_request_closes_and_is_never_late(org, dpo, person):
    rr = logged_request(org, subject=person, received_on=date(2027, 1, 4))
    rr = services.request_withdrawn(rights_request=rr, user=dpo, note="Llamó para retirarla.")
    assert (rr.status, rr.answer) == (RequestStatus.WITHDRAWN, "Llamó para retirarla.")
    assert not RightsRequest.objects.answered_late().exists()


def test_nothing_more_happens_to_a_closed_request(org, dpo, person):
    rr = logged_request(org, subject=person)
    services.request_withdrawn(rights_request=rr, user=dpo)
    with pytest.raises(ValidationError, match="closed"):
        services.request_reject(rights_request=rr, reason="x", user=dpo, sent_via="post")
    with pytest.raises(ValidationError, match="closed"):
        services.request_verify_identity(
            rights_request=rr, method=VerificationMethod.ID_IN_PERSON, user=dpo
        )


def test_carrying_out_is_recorded_once_and_only_for_a_verified_request(org, dpo, person):
    pending = logged_request(org, subject=person)
    with pytest.raises(ValidationError, match="Verify who is asking"):
        carried_out(pending, dpo)
    rr = verified_request(org, subject=person, right=Right.PORTABILITY)
    carried_out(rr, dpo)
    with pytest.raises(ValidationError, match="on record already"):
        carried_out(rr, dpo)


def test_the_history_shows_the_register_as_it_stood(org, dpo, person):
    with time_machine.travel(datetime(2027, 2, 1, 9, 0), tick=False):
        rr = logged_request(org, user=dpo, subject=person, received_on=date(2027, 2, 1))
    services.request_withdrawn(rights_request=rr, user=dpo)
    then = RightsRequest.history.as_of(timezone.make_aware(datetime(2027, 2, 5))).get(pk=rr.pk)
    assert then.status == RequestStatus.IDENTITY
    assert RightsRequest.objects.get(pk=rr.pk).status == RequestStatus.WITHDRAWN


def test_only_members_handle(org, dpo, person):
    # An old member who left is no handler either.
    leaver = UserFactory()
    membership = MembershipFactory(organisation=org, user=leaver, role=Role.STAFF)
    membership.delete()
    rr = verified_request(org, subject=person)
    with pytest.raises(ValidationError):
        services.request_assign(rights_request=rr, handler=leaver, user=dpo)
