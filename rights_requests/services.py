"""Every write on the rights-request register (GDPR Art. 12, with Art. 15-21 and LOPDGDD Art. 32).

The register must show the AEPD that each request was received, handled by someone, answered and
on time. So:
- due dates are computed (RightsRequest.compute_due, rights_requests.deadlines), never typed;
- the status follows from the facts (identity, extension, handler, outcome: ``_settle``);
- every change is saved with the person who made it (simple-history, then the Activity feed);
- a service given bad input raises ValidationError and changes nothing.

Identity (Art. 12(6)). A request is "identity to verify" until someone records how they became
sure who is asking, except when the way it arrived already says so:
- through the person's personal consent link (choices.VERIFIED_CHANNELS): the link went to the
  number on record and only its holder can open it;
- a WhatsApp message logged by staff from the very number on record (choices.PHONE_MATCH_CHANNELS):
  WhatsApp ties an account to its number. A phone call or an e-mail is not enough by itself (a
  caller ID or a From line can be forged); staff verify those with one of the methods below.
The one-time code: the person opens their personal link, asks for a code for the request
(``request_identity_code_issue``) and reads it to staff, who type it into the verification form.
Only an HMAC of the code is stored, it lasts IDENTITY_CODE_MINUTES and IDENTITY_CODE_TRIES wrong
tries void it.

The clock (Art. 12(3)) runs from the day of receipt, whether the identity is settled or not; it
stands still only while the organisation waits for the identity information it asked for under
Art. 12(6) (``request_stop_clock`` / ``request_restart_clock``), and those days move the due date.
"""

import hmac
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from accounts.models import Membership, Organisation, User
from accounts.roles import Role
from consents.models import ConsentLink, DataSubject
from consents.uploads import InspectedUpload

from . import deadlines, letters
from .choices import (
    CARRIED_OUT_FIRST,
    CLOSED,
    PHONE_MATCH_CHANNELS,
    VERIFIED_CHANNELS,
    ErasureException,
    LetterKind,
    RequestChannel,
    RequestStatus,
    Right,
    VerificationMethod,
)
from .models import IdentityCode, RequestAttachment, RequestLetter, RightsRequest

# How far back a request may be dated: a backlog typed in late is fine, a typo of the year is not.
OLDEST_RECEIPT_DAYS = 366
IDENTITY_CODE_MINUTES = getattr(settings, "RIGHTS_IDENTITY_CODE_MINUTES", 30)
IDENTITY_CODE_TRIES = 5
# The methods staff may record; "personal link" is recorded only by the link itself.
STAFF_METHODS = [m for m in VerificationMethod if m != VerificationMethod.PERSONAL_LINK]


def _today() -> date:
    return timezone.localdate()


def date_text(value: date) -> str:
    """A date as the current language writes it (config/formats)."""
    return date_format(value, "DATE_FORMAT")


def _settle(rights_request: RightsRequest) -> None:
    """The status an open request has from its facts; a closed one keeps its outcome."""
    if rights_request.status in CLOSED:
        return
    if rights_request.identity_verified_at is None:
        rights_request.status = RequestStatus.IDENTITY
    elif rights_request.extension_months:
        rights_request.status = RequestStatus.EXTENDED
    elif rights_request.handled_by_id:
        rights_request.status = RequestStatus.IN_PROGRESS
    else:
        rights_request.status = RequestStatus.RECEIVED


def _save(rights_request: RightsRequest, user: User | None) -> RightsRequest:
    rights_request.due_on, rights_request.current_due_on = rights_request.compute_due()
    _settle(rights_request)
    # The history row (and so the Activity feed) names who did it, also outside a web request.
    rights_request._history_user = user
    rights_request.full_clean()
    rights_request.save()
    return rights_request


def _locked(rights_request: RightsRequest) -> RightsRequest:
    # Two people acting on one request at once (answer and withdraw) must not both win.
    return (
        # of=self: the person is an outer join (a request may name nobody on record), which
        # PostgreSQL cannot lock; the request row is what must be locked.
        RightsRequest.objects.select_for_update(of=("self",))
        .select_related("organisation", "subject")
        .get(pk=rights_request.pk)
    )


def _ensure_open(rights_request: RightsRequest) -> None:
    if rights_request.status in CLOSED:
        raise ValidationError(
            _("This request is closed (%(status)s): nothing more can be done to it.")
            % {"status": rights_request.get_status_display()}
        )


def _locked_open(rights_request: RightsRequest) -> RightsRequest:
    """The request, locked, for a change that only an open request takes."""
    current = _locked(rights_request)
    _ensure_open(current)
    return current


def _required(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(message)
    return value


def _check_received_on(received_on: date) -> None:
    today = _today()
    if received_on is None:
        raise ValidationError(_("Give the day the request reached the organisation."))
    if received_on > today:
        raise ValidationError(_("The request cannot have been received in the future."))
    if received_on < today - timedelta(days=OLDEST_RECEIPT_DAYS):
        raise ValidationError(
            _("A request received more than a year ago cannot be logged: check the date.")
        )


def _check_right(right: str, details: str) -> None:
    if right not in Right.values:
        raise ValidationError(_("Choose the right the person exercises."))
    if right == Right.RECTIFICATION and not (details or "").strip():
        raise ValidationError(_("Say what is to be corrected (GDPR Art. 16)."))


def subject_by_phone(*, organisation: Organisation, phone: PhoneNumber | None):
    """The organisation's person with this number, or None (one subject per number)."""
    if not phone:
        return None
    return DataSubject.objects.filter(organisation=organisation, phone=phone).first()


def _language(organisation: Organisation, subject, language: str) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    if language in known:
        return language
    if subject is not None and subject.preferred_language in known:
        return subject.preferred_language
    return organisation.default_language


def _verify(rights_request, *, method: str, user: User | None, note: str = "") -> None:
    rights_request.identity_verified_at = timezone.now()
    rights_request.identity_method = method
    rights_request.identity_verified_by = user
    rights_request.identity_note = note.strip()


def _store_attachments(rights_request, uploads: list[InspectedUpload], user, stored: list[str]):
    for upload in uploads:
        record = RequestAttachment(
            organisation=rights_request.organisation,
            request=rights_request,
            original_name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            created_by=user,
        )
        record.file.save(upload.name, ContentFile(upload.content), save=False)
        stored.append(record.file.name)
        record.save()


def _new_request(
    *,
    organisation: Organisation,
    subject,
    right: str,
    channel: str,
    received_on: date,
    details: str,
    language: str,
    name: str = "",
    phone: PhoneNumber | None = None,
    email: str = "",
    user: User | None = None,
) -> RightsRequest:
    return RightsRequest(
        organisation=organisation,
        subject=subject,
        requester_name=(name or "").strip()[:200],
        requester_phone=phone or "",
        requester_email=(email or "").strip().lower(),
        language=_language(organisation, subject, language),
        right=right,
        channel=channel,
        received_on=received_on,
        details=(details or "").strip(),
        logged_at=timezone.now(),
        logged_by=user,
        status=RequestStatus.IDENTITY,
    )


# --- intake ---------------------------------------------------------------------------------


def request_log(
    *,
    organisation: Organisation,
    right: str,
    channel: str,
    received_on: date,
    user: User,
    phone: PhoneNumber | None = None,
    name: str = "",
    email: str = "",
    details: str = "",
    language: str = "",
    attachments: list[InspectedUpload] = (),
    identity_method: str = "",
    identity_note: str = "",
    request=None,
) -> RightsRequest:
    """Staff or the DPO log a request that reached the organisation (GDPR Art. 12(2)-(3)).

    ``received_on`` is the day it arrived, which starts the one-month clock whatever the day it is
    typed in. The person is found by phone among the organisation's subjects; when nobody has that
    number the identity given (name, phone, e-mail) is kept as it was given. Attachments arrive
    checked by consents.uploads.inspect_upload (content, size, GPS removed).

    Identity (Art. 12(6)): verified at once for a WhatsApp message from the number on record, or
    when staff record here how they checked it (``identity_method``: an ID seen in person, say);
    otherwise the request waits as "identity to verify".
    """
    _check_right(right, details)
    # A channel that verifies by itself (the personal link) is the person's own, not staff's.
    if channel not in RequestChannel.values or channel in VERIFIED_CHANNELS:
        raise ValidationError(_("Choose how the request reached the organisation."))
    _check_received_on(received_on)
    subject = subject_by_phone(organisation=organisation, phone=phone)
    if subject is None and not ((name or "").strip() and (phone or (email or "").strip())):
        raise ValidationError(
            _(
                "Nobody on record has this number: give the person's name and a phone number or"
                " e-mail address to answer them at."
            )
        )
    if identity_method and identity_method not in STAFF_METHODS:
        raise ValidationError(_("Choose how the identity was checked."))
    if identity_method == VerificationMethod.OTHER and not identity_note.strip():
        raise ValidationError(_("Describe how the identity was checked."))
    if identity_method in (VerificationMethod.PHONE_MATCH, VerificationMethod.EMAIL_MATCH):
        raise ValidationError(
            _("A match with the details on record is checked on the request's page, not here.")
        )
    stored: list[str] = []
    try:
        with transaction.atomic():
            rights_request = _new_request(
                organisation=organisation,
                subject=subject,
                right=right,
                channel=channel,
                received_on=received_on,
                details=details,
                language=language,
                name=name,
                phone=phone,
                email=email,
                user=user,
            )
            if identity_method:
                _verify(rights_request, method=identity_method, user=user, note=identity_note)
            elif channel in PHONE_MATCH_CHANNELS and subject is not None:
                _verify(
                    rights_request,
                    method=VerificationMethod.PHONE_MATCH,
                    user=user,
                    note=_("Sent on WhatsApp from the number on record."),
                )
            _save(rights_request, user)
            _store_attachments(rights_request, list(attachments), user, stored)
    except BaseException:
        # Storage does not roll back with the database.
        for name_ in stored:
            RequestAttachment._meta.get_field("file").storage.delete(name_)
        raise
    return rights_request


RIGHTS_FROM_LINK = (
    Right.ACCESS,
    Right.RECTIFICATION,
    Right.ERASURE,
    Right.OBJECTION,
    Right.RESTRICTION,
    Right.PORTABILITY,
    Right.WITHDRAWAL,
)


@transaction.atomic
def request_from_link(
    *, link: ConsentLink, right: str, details: str = "", language: str = "", request=None
) -> RightsRequest:
    """The person asks through their own personal consent link ("see my data", "correct",
    "erase", "stop marketing"...): GDPR Art. 12(2), the controller facilitates the exercise of
    rights. The link was sent to the number on record and only its holder opens it, so the
    identity counts as verified (Art. 12(6)). One open request per right: asking again says when
    the first one was made.
    """
    link = ConsentLink.objects.select_related("organisation", "subject").get(pk=link.pk)
    subject = link.subject
    if link.kind != ConsentLink.Kind.PERSONAL or subject is None or not link.is_active:
        raise ValidationError(_("This link cannot be used for requests."))
    if subject.status == DataSubject.Status.BLOCKED:
        raise ValidationError(_("This link cannot be used for requests."))
    if right not in RIGHTS_FROM_LINK:
        raise ValidationError(_("Choose what you are asking for."))
    _check_right(right, details)
    earlier = (
        RightsRequest.objects.open()
        .filter(organisation=link.organisation, subject=subject, right=right)
        .order_by("received_on", "pk")
        .first()
    )
    if earlier is not None:
        raise ValidationError(
            _(
                "You made this request already on %(date)s (reference %(reference)s); we are"
                " dealing with it."
            )
            % {"date": date_text(earlier.received_on), "reference": earlier.reference}
        )
    rights_request = _new_request(
        organisation=link.organisation,
        subject=subject,
        right=right,
        channel=RequestChannel.PERSONAL_LINK,
        received_on=_today(),
        details=details,
        language=language,
        name=subject.full_name,
        phone=subject.phone,
        email=subject.email,
    )
    _verify(
        rights_request,
        method=VerificationMethod.PERSONAL_LINK,
        user=None,
        note=_("Made through the personal link sent to the number on record."),
    )
    link.last_used_at = timezone.now()
    link.save(update_fields=["last_used_at"])
    return _save(rights_request, None)


@transaction.atomic
def request_from_public_form(
    *,
    organisation: Organisation,
    right: str,
    name: str,
    phone: PhoneNumber | None = None,
    email: str = "",
    details: str = "",
    language: str = "",
    request=None,
) -> RightsRequest:
    """A request sent through the organisation's public request form (GDPR Art. 12(2)).

    Anyone can type anything there, so the identity always waits for verification (Art. 12(6)).
    The request is matched to the person with that number when there is one; the person asking
    is never told whether there was (the page answers the same either way).
    """
    _check_right(right, details)
    name = _required(name, _("Give your name."))
    if not (phone or (email or "").strip()):
        raise ValidationError(_("Give a phone number or an e-mail address to answer you at."))
    subject = subject_by_phone(organisation=organisation, phone=phone)
    rights_request = _new_request(
        organisation=organisation,
        subject=subject,
        right=right,
        channel=RequestChannel.WEB_FORM,
        received_on=_today(),
        details=details,
        language=language,
        name=name,
        phone=phone,
        email=email,
    )
    return _save(rights_request, None)


# --- identity (GDPR Art. 12(6)) -------------------------------------------------------------


def _code_hash(rights_request: RightsRequest, code: str) -> str:
    return salted_hmac(
        "rights_requests.identity_code", f"{rights_request.pk}:{code}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def request_identity_code_issue(*, rights_request: RightsRequest, link: ConsentLink) -> str:
    """A new six-digit code for the person to read to staff (GDPR Art. 12(6)); earlier ones stop
    working. Given only to the holder of the personal link of the person the request is for."""
    rights_request = _locked_open(rights_request)
    if (
        link.kind != ConsentLink.Kind.PERSONAL
        or not link.is_active
        or link.subject_id is None
        or link.subject_id != rights_request.subject_id
    ):
        raise ValidationError(_("This link cannot confirm this request."))
    if rights_request.identity_verified_at is not None:
        raise ValidationError(_("This request is confirmed already: no code is needed."))
    now = timezone.now()
    IdentityCode.objects.filter(
        request=rights_request, used_at__isnull=True, voided_at__isnull=True
    ).update(voided_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    IdentityCode.objects.create(
        request=rights_request,
        code_hash=_code_hash(rights_request, code),
        created_at=now,
        expires_at=now + timedelta(minutes=IDENTITY_CODE_MINUTES),
    )
    return code


def _check_code(rights_request: RightsRequest, code: str) -> IdentityCode:
    """The usable code that matches, or ValidationError; a wrong try is counted for good."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    with transaction.atomic():
        current = (
            IdentityCode.objects.select_for_update()
            .filter(request=rights_request, used_at__isnull=True, voided_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if current is None or not current.is_usable:
            error = _(
                "No code is waiting for this request, or it expired: ask the person to open"
                " their personal link and show a new one."
            )
        elif len(code) == 6 and hmac.compare_digest(
            current.code_hash, _code_hash(rights_request, code)
        ):
            return current
        else:
            current.attempts += 1
            if current.attempts >= IDENTITY_CODE_TRIES:
                current.voided_at = timezone.now()
                error = _("Wrong code, too many times: ask the person to show a new one.")
            else:
                error = _("This is not the code the person was shown.")
            current.save(update_fields=["attempts", "voided_at"])
    raise ValidationError(error)


def request_verify_identity(
    *,
    rights_request: RightsRequest,
    method: str,
    user: User,
    note: str = "",
    code: str = "",
    request=None,
) -> RightsRequest:
    """Record how the organisation became sure who is asking, and who checked (GDPR Art. 12(6)).

    ``phone_match`` and ``email_match`` are checked against the request: the number or address
    given must be the one on record. ``one_time_code`` takes the code the person read from their
    personal link (a wrong try is counted even though nothing else changes). A clock stopped to
    wait for this information starts again.
    """
    if method not in STAFF_METHODS:
        raise ValidationError(_("Choose how the identity was checked."))
    current = RightsRequest.objects.select_related("subject").get(pk=rights_request.pk)
    _ensure_open(current)
    if current.identity_verified_at is not None:
        raise ValidationError(_("The identity of this request is verified already."))
    subject = current.subject
    if method == VerificationMethod.PHONE_MATCH and not (
        subject is not None and current.requester_phone and current.requester_phone == subject.phone
    ):
        raise ValidationError(_("The number the request came from is not the one on record."))
    if method == VerificationMethod.EMAIL_MATCH and not (
        subject is not None
        and subject.email
        and current.requester_email.lower() == subject.email.strip().lower()
    ):
        raise ValidationError(_("The e-mail address given is not the one on record."))
    if method == VerificationMethod.OTHER and not (note or "").strip():
        raise ValidationError(_("Describe how the identity was checked."))
    if method == VerificationMethod.ONE_TIME_CODE:
        if subject is None:
            raise ValidationError(
                _("A code works through a personal link: match the request to a person first.")
            )
        used = _check_code(current, code)
    with transaction.atomic():
        current = _locked_open(rights_request)
        if current.identity_verified_at is not None:
            raise ValidationError(_("The identity of this request is verified already."))
        if method == VerificationMethod.ONE_TIME_CODE:
            IdentityCode.objects.filter(pk=used.pk).update(used_at=timezone.now())
        _restart(current)
        _verify(current, method=method, user=user, note=note)
        return _save(current, user)


# --- the clock (GDPR Art. 12(3) and 12(6)) --------------------------------------------------


def _restart(rights_request: RightsRequest) -> None:
    if rights_request.clock_stopped_on is not None:
        stood = (_today() - rights_request.clock_stopped_on).days
        rights_request.days_stopped += max(stood, 0)
        rights_request.clock_stopped_on = None


@transaction.atomic
def request_stop_clock(
    *, rights_request: RightsRequest, reason: str, user: User, request=None
) -> RightsRequest:
    """Stop the clock while the organisation waits for what it asked for to confirm the
    person's identity (GDPR Art. 12(6); EDPB Guidelines 01/2022 on access, para. 159: the period
    runs from when that information arrives). Nothing else stops it."""
    current = _locked_open(rights_request)
    reason = _required(reason, _("Say what information is awaited."))
    if current.identity_verified_at is not None:
        raise ValidationError(
            _(
                "The clock stops only while the person's identity is awaited (GDPR Art. 12(6)),"
                " and it is verified already."
            )
        )
    if current.clock_stopped_on is not None:
        raise ValidationError(_("The clock is stopped already."))
    if _today() > current.current_due_on:
        raise ValidationError(
            _("The request was due on %(due)s: an overdue request cannot stop its clock.")
            % {"due": date_text(current.current_due_on)}
        )
    current.clock_stopped_on = _today()
    current.clock_stop_reason = reason
    return _save(current, user)


@transaction.atomic
def request_restart_clock(*, rights_request: RightsRequest, user: User, request=None):
    """The awaited information arrived (or will not): the clock runs again, and the days it
    stood still move the due date (rights_requests.deadlines.shifted)."""
    current = _locked_open(rights_request)
    if current.clock_stopped_on is None:
        raise ValidationError(_("The clock is running already."))
    _restart(current)
    return _save(current, user)


def projected_due_on(rights_request: RightsRequest, today: date | None = None) -> date:
    """While the clock stands still, the due date it would have if it started again today."""
    if rights_request.clock_stopped_on is None:
        return rights_request.current_due_on
    stood = ((today or _today()) - rights_request.clock_stopped_on).days
    start = deadlines.shifted(rights_request.received_on, rights_request.days_stopped + stood)
    if rights_request.extension_months:
        return deadlines.extended_due_on(
            start, extra_months=rights_request.extension_months, region=rights_request.region
        )
    return deadlines.due_on(start, region=rights_request.region)


# --- extension, handler -----------------------------------------------------------------------


@transaction.atomic
def request_extend(
    *,
    rights_request: RightsRequest,
    months: int,
    reason: str,
    user: User,
    sent_via: str,
    sent_to: str = "",
    body: str = "",
    request=None,
) -> RequestLetter:
    """Extend the period by one or two further months (GDPR Art. 12(3)): "where necessary,
    taking into account the complexity and number of the requests", with the reasons, and only
    by telling the person within one month of receipt. The notice is a letter, sent now; on a
    day after the first month the extension is refused.
    """
    current = _locked_open(rights_request)
    reason = _required(reason, _("Give the reason for the extension: the person is told it."))
    try:
        months = int(months)
    except (TypeError, ValueError):
        months = 0
    if not 1 <= months <= deadlines.MAX_EXTENSION_MONTHS:
        raise ValidationError(_("An extension is of one or two further months (GDPR Art. 12(3))."))
    if current.extension_months:
        raise ValidationError(_("This request was extended already."))
    today = _today()
    if today > current.due_on:
        raise ValidationError(
            _(
                "The first month ended on %(due)s. An extension had to be told to the person"
                " by then (GDPR Art. 12(3)): it can no longer be extended."
            )
            % {"due": date_text(current.due_on)}
        )
    current.extension_months = months
    current.extension_reason = reason
    current.extension_notified_on = today
    _save(current, user)
    return letters.letter_create_and_send(
        rights_request=current,
        kind=LetterKind.EXTENSION,
        body=body or letters.default_body(current, LetterKind.EXTENSION),
        user=user,
        via=sent_via,
        to=sent_to,
        request=request,
    )


@transaction.atomic
def request_assign(
    *, rights_request: RightsRequest, handler: User | None, user: User, request=None
) -> RightsRequest:
    """Name who handles the request (the DPO or a staff member of the organisation)."""
    current = _locked_open(rights_request)
    if (
        handler is not None
        and not Membership.objects.filter(
            organisation=current.organisation, user=handler, role__in=[Role.DPO, Role.STAFF]
        ).exists()
    ):
        raise ValidationError(
            _("Only the DPO or a staff member of the organisation can handle it.")
        )
    current.handled_by = handler
    return _save(current, user)


@transaction.atomic
def request_carried_out(
    *, rights_request: RightsRequest, what: dict, user: User | None, request=None
) -> RightsRequest:
    """Record, once, what was done to the person's data for the request (what the answer
    reports): ``what`` holds a "summary" the answer letter quotes, and any details. The
    fulfilment of each right (rights_requests.fulfilment) calls this or sets the same fields."""
    current = _locked_open(rights_request)
    if current.identity_verified_at is None:
        raise ValidationError(_("Verify who is asking before acting on their data."))
    if current.carried_out_at is not None:
        raise ValidationError(_("What was done for this request is on record already."))
    if not isinstance(what, dict) or not str(what.get("summary", "")).strip():
        raise ValidationError(_("Say what was done."))
    current.carried_out_at = timezone.now()
    current.carried_out_by = user
    current.carried_out = what
    return _save(current, user)


# --- outcomes ------------------------------------------------------------------------------


def _close(current: RightsRequest, status: str) -> None:
    _restart(current)
    current.status = status
    current.closed_on = _today()


@transaction.atomic
def request_answer(
    *,
    rights_request: RightsRequest,
    answer: str,
    user: User,
    sent_via: str,
    sent_to: str = "",
    erasure_exception: str = "",
    request=None,
) -> RequestLetter:
    """Answer the request and close it with the answer letter, sent now (GDPR Art. 12(1), (3)).

    The identity must be settled (Art. 12(6)) and what the right asks for carried out first
    (rights_requests.fulfilment sets ``carried_out_at``): an answer is a report of what was done.
    For erasure, an exception of Art. 17(3) (a legal obligation to keep, legal claims...) closes
    it without erasing, and the letter names it. The day it is sent is the day it was answered:
    on time when on or before the due date.
    """
    current = _locked_open(rights_request)
    answer = _required(answer, _("Write the answer to the person."))
    if current.identity_verified_at is None:
        raise ValidationError(
            _("Verify who is asking before answering (GDPR Art. 12(6)), or refuse the request.")
        )
    if erasure_exception:
        if current.right != Right.ERASURE:
            raise ValidationError(_("The exceptions of Art. 17(3) apply to erasure only."))
        if erasure_exception not in ErasureException.values:
            raise ValidationError(_("Choose the exception of Art. 17(3) that applies."))
    elif current.right in CARRIED_OUT_FIRST and current.carried_out_at is None:
        raise ValidationError(
            _(
                "Carry out the request first (%(right)s): the answer reports what was done. If"
                " it cannot be done, refuse it with the reasons."
            )
            % {"right": current.get_right_display()}
        )
    current.answer = answer
    current.erasure_exception = erasure_exception
    _close(current, RequestStatus.ANSWERED)
    _save(current, user)
    return letters.letter_create_and_send(
        rights_request=current,
        kind=LetterKind.ANSWER,
        body=answer,
        user=user,
        via=sent_via,
        to=sent_to,
        request=request,
    )


@transaction.atomic
def request_reject(
    *,
    rights_request: RightsRequest,
    reason: str,
    user: User,
    sent_via: str,
    sent_to: str = "",
    request=None,
) -> RequestLetter:
    """Refuse to act (GDPR Art. 12(4), also 12(5) for manifestly unfounded or excessive
    requests and 11(2)/12(6) when the person cannot be identified): the letter gives the reasons
    and the right to complain to the AEPD and to seek a judicial remedy. Sent now."""
    current = _locked_open(rights_request)
    reason = _required(reason, _("Give the reasons: the person must be told why (Art. 12(4))."))
    current.rejection_reason = reason
    _close(current, RequestStatus.REJECTED)
    _save(current, user)
    return letters.letter_create_and_send(
        rights_request=current,
        kind=LetterKind.REJECTION,
        body=letters.default_body(current, LetterKind.REJECTION),
        user=user,
        via=sent_via,
        to=sent_to,
        request=request,
    )


@transaction.atomic
def request_withdrawn(
    *, rights_request: RightsRequest, user: User, note: str = "", request=None
) -> RightsRequest:
    """The person withdrew their request: it closes without an answer, and no deadline is
    missed by it. What they said is kept as the outcome."""
    current = _locked_open(rights_request)
    current.answer = (note or "").strip() or _("The person withdrew the request.")
    _close(current, RequestStatus.WITHDRAWN)
    return _save(current, user)
