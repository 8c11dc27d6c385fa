"""What each right does to the person's data (GDPR Art. 15-21, LOPDGDD Art. 32).

One service per right. Each takes ``rights_request`` and ``user`` (keyword-only), checks that
the request may be carried out (``readiness``: open, for this right, the identity verified
(GDPR Art. 12(6)), matched to a person still in normal use, not carried out before), does what
the right asks through the service that owns the data (consents.services for the person and
the ledger, groups for memberships, jobs for the exports), and ends by recording on the
request when, by whom and what was done: ``carried_out`` is a JSON summary the answer letter
and the AEPD can read (counts, ledger references, the recipients to tell under Art. 19). The
request's history (simple-history) puts the change on record with its author (invariant 6).

Access and portability take a while (a signed PDF, files): they run as jobs
(rights_requests.runners); the request is marked carried out when the job's file is ready.

Decisions worth knowing:
- Restriction (Art. 18) is a status of the person, RESTRICTED, not a separate flag: restricted,
  blocked and normal use exclude each other, and every check that already reads the status
  (imports, links, capture) sees it. The rule is consents.rules.ensure_not_restricted.
- Erasure ends the person's current WhatsApp group stays (recorded as left when the erasure is
  carried out) and lists the groups so the DPO removes them there; their consents are
  withdrawn first, so every count of "granted" drops at once.
- Blocked data is for courts and authorities only: the one export that includes it is an
  evidence pack made "for an authority" (evidence.packs.PackScope.for_authority).

``carried_out`` never holds personal data (field names, codes, ids, counts, group names), so
it can stay when the person's data is purged (rights_requests.purge); free text a DPO types
there (an Art. 17(3) note) is scrubbed by the purge like the rest of the request.
"""

from __future__ import annotations

import functools
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from consents import services as consent_services
from consents.choices import Channel, PurposeCategory, SuppressionReason
from consents.models import ConsentEvent, DataSubject
from groups.models import GroupMembership
from jobs.models import Job

from . import deadlines
from .choices import VERIFIED_CHANNELS, ErasureException, RequestChannel, Right
from .models import RightsRequest

# The ledger's channel for an act carried out because of a request received through a channel.
LEDGER_CHANNEL = {
    RequestChannel.WHATSAPP: Channel.WHATSAPP,
    RequestChannel.EMAIL: Channel.EMAIL,
    RequestChannel.IN_PERSON: Channel.IN_PERSON,
    RequestChannel.POST: Channel.PAPER_FORM,
    RequestChannel.WEB_FORM: Channel.WEB_FORM,
    RequestChannel.PHONE: Channel.PHONE_CALL,
    RequestChannel.PERSONAL_LINK: Channel.WEB_FORM,
}

# The kinds of job of the two exports (registered in RightsRequestsConfig.ready()).
ACCESS_JOB = "access"
PORTABILITY_JOB = "portability"
EXPORT_JOBS = {Right.ACCESS: ACCESS_JOB, Right.PORTABILITY: PORTABILITY_JOB}

# GDPR Art. 18(1): the grounds on which the person may obtain restriction.
RESTRICTION_GROUNDS = {
    "accuracy": "Art. 18(1)(a)",
    "unlawful": "Art. 18(1)(b)",
    "legal_claims": "Art. 18(1)(c)",
    "objection_pending": "Art. 18(1)(d)",
}

# Art. 17(3): the exception covers all of the data (nothing is erased) or part of it (the
# person is blocked and what the exception needs is kept, blocked, until a later purge date).
SCOPE_ALL = "all"
SCOPE_PART = "part"


# --- may this request be carried out? ------------------------------------------------------


def identity_verified(rights_request: RightsRequest) -> bool:
    """GDPR Art. 12(6): verified by staff, or asked through a channel that already knows who is
    speaking (the person's own consent link)."""
    return (
        rights_request.identity_verified_at is not None
        or rights_request.channel in VERIFIED_CHANNELS
    )


def readiness(rights_request: RightsRequest) -> list[str]:
    """Why this request cannot be carried out now, in the order to fix them; [] if it can."""
    if rights_request.carried_out_at is not None:
        return [
            _("This request was carried out already, on %(when)s.")
            % {"when": f"{timezone.localtime(rights_request.carried_out_at):%Y-%m-%d %H:%M}"}
        ]
    problems = []
    if not rights_request.is_open:
        problems.append(_("This request is closed: nothing more can be carried out for it."))
    if not identity_verified(rights_request):
        problems.append(
            _(
                "The identity of the person asking is not verified yet (GDPR Art. 12(6)): "
                "verify it before carrying out the request."
            )
        )
    subject = rights_request.subject
    if subject is None:
        problems.append(_("Match the request to a person of the register first."))
    elif subject.is_hidden:
        problems.append(
            _(
                "This person's data is blocked or purged after an erasure: it is kept only for "
                "courts and authorities, and nothing more can be done with it."
            )
        )
    return problems


def _locked(rights_request: RightsRequest, right: str) -> RightsRequest:
    """The request, locked until the end of the transaction, once it may be carried out.

    The lock makes "refuses twice" hold when two DPOs press the button together."""
    locked = (
        RightsRequest.objects.select_for_update(of=("self",))
        .select_related("organisation", "subject")
        .get(pk=rights_request.pk)
    )
    if locked.right != right:
        raise ValidationError(
            _("This request is for “%(right)s”: it cannot be carried out as another right.")
            % {"right": locked.get_right_display()}
        )
    problems = readiness(locked)
    if problems:
        raise ValidationError(problems[0])
    return locked


def _record(
    rights_request: RightsRequest, user: User | None, summary: dict, *also: str
) -> RightsRequest:
    """Put on the request when, by whom and what was done (its history audits the change, in
    one historical row with the fields named in ``also``)."""
    rights_request.carried_out_at = timezone.now()
    rights_request.carried_out_by = user
    rights_request.carried_out = {"right": rights_request.right, **summary}
    rights_request._history_user = user
    rights_request.save(update_fields=["carried_out_at", "carried_out_by", "carried_out", *also])
    return rights_request


def _refreshes(service):
    """The caller's ``rights_request`` shows what the service did (it worked on a locked copy)."""

    @functools.wraps(service)
    def wrapper(*, rights_request: RightsRequest, **kwargs):
        result = service(rights_request=rights_request, **kwargs)
        rights_request.refresh_from_db()
        return result

    return wrapper


def _sequences(events: list[ConsentEvent]) -> list[int]:
    return [event.sequence for event in events]


def _request_note(rights_request: RightsRequest) -> str:
    # What the proof of a withdrawal the person did not click says: the request that asked.
    return _("Rights request %(ref)s (%(right)s), register id %(pk)s") % {
        "ref": rights_request.reference,
        "right": rights_request.get_right_display(),
        "pk": rights_request.pk,
    }


def _idempotency_key(rights_request: RightsRequest) -> str:
    # On every ledger event the request causes: a retry records nothing twice, and anyone
    # reading the ledger can tell which request an event answered.
    return f"rights-request-{rights_request.pk}-{rights_request.right}"


def _withdraw_granted(
    locked: RightsRequest, user: User, category: str | None = None
) -> list[ConsentEvent]:
    """Withdraw the person's granted consents (only those of ``category`` when given) in the
    ledger, each event naming the request that asked."""
    return consent_services.consent_withdraw_granted(
        subject=locked.subject,
        channel=LEDGER_CHANNEL.get(locked.channel, Channel.WEB_FORM),
        recorded_by=user,
        note=_request_note(locked),
        idempotency_key=_idempotency_key(locked),
        category=category,
    )


def recipients(subject: DataSubject) -> list[dict]:
    """GDPR Art. 19: who received the person's data and must be told of a rectification,
    erasure or restriction: the WhatsApp groups they are in (their admins and members see the
    name and number) and WhatsApp itself when the organisation wrote to them there."""
    found = []
    memberships = (
        GroupMembership.objects.filter(subject=subject)
        .current()
        .select_related("group")
        .prefetch_related("group__admins")
        .order_by("group__name")
    )
    for membership in memberships:
        found.append(
            {
                "kind": "whatsapp_group",
                "group_id": membership.group_id,
                "name": membership.group.name,
                "admins": [str(admin) for admin in membership.group.admins.all()],
            }
        )
    uses_whatsapp = (
        bool(found)
        or ConsentEvent.objects.filter(
            subject=subject, channel__in=[Channel.WHATSAPP, Channel.INVITE_LINK]
        ).exists()
    )
    if uses_whatsapp:
        found.append({"kind": "processor", "code": "whatsapp", "name": "WhatsApp (Meta)"})
    return found


# --- access and portability (GDPR Art. 15 and 20): jobs ------------------------------------


def export_jobs(rights_request: RightsRequest):
    """The export jobs started for this request, newest first."""
    kind = EXPORT_JOBS.get(rights_request.right)
    if kind is None:
        return Job.objects.none()
    return Job.objects.filter(
        organisation=rights_request.organisation_id,
        kind=kind,
        parameters__request_id=rights_request.pk,
    ).order_by("-created_at", "-pk")


def _export_start(*, rights_request: RightsRequest, user: User, right: str) -> Job:
    from jobs.tasks import job_enqueue

    with transaction.atomic():
        locked = _locked(rights_request, right)
        waiting = export_jobs(locked).filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        if waiting.exists():
            raise ValidationError(_("The export of this request is being prepared already."))
        return job_enqueue(
            organisation=locked.organisation,
            kind=EXPORT_JOBS[right],
            parameters={"request_id": locked.pk, "language": locked.language},
            requested_by=user,
            # The reference only: a job's description is shown on the Exports page and kept
            # in the audit trail, where a name would outlive the person's purge.
            description=locked.reference,
        )


@_refreshes
def access_export_start(*, rights_request: RightsRequest, user: User) -> Job:
    """GDPR Art. 15: start the copy of everything held about the person, with the Art. 15(1)
    information, as a signed PDF in their language plus JSON and CSV (rights_requests.exports).
    The request is marked carried out when the file is ready (access_export_finished)."""
    return _export_start(rights_request=rights_request, user=user, right=Right.ACCESS)


@_refreshes
def portability_export_start(*, rights_request: RightsRequest, user: User) -> Job:
    """GDPR Art. 20: start the export of what the person provided, in JSON and CSV."""
    return _export_start(rights_request=rights_request, user=user, right=Right.PORTABILITY)


@transaction.atomic
def export_finished(*, rights_request: RightsRequest, job: Job, counts: dict) -> RightsRequest:
    """The export's file is ready: the request is carried out (called by the job's runner)."""
    locked = RightsRequest.objects.select_for_update().get(pk=rights_request.pk)
    if locked.carried_out_at is not None:
        return locked  # a second delivery of the same job: already on record
    return _record(
        locked,
        job.requested_by,
        {
            "job": job.pk,
            "file": job.result_name,
            "sha256": job.result_sha256,
            "size": job.result_size,
            "language": job.parameters.get("language", ""),
            "counts": counts,
        },
    )


# --- rectification (GDPR Art. 16 and 19) ---------------------------------------------------


@_refreshes
def rectification_carry_out(
    *, rights_request: RightsRequest, user: User, changes: dict
) -> RightsRequest:
    """GDPR Art. 16: correct the person's name, phone, e-mail or language. History keeps the
    before and after; the ledger is untouched (it holds an HMAC of the identifiers at each
    consent: the old ones stay provable). Art. 19: the recipients to tell are listed."""
    with transaction.atomic():
        locked = _locked(rights_request, Right.RECTIFICATION)
        changed = consent_services.subject_rectify(
            subject=locked.subject, changes=changes, user=user
        )
        locked.subject.refresh_from_db()
        return _record(
            locked,
            user,
            {
                "fields": changed,
                "ledger": "untouched",
                "recipients": recipients(locked.subject),
            },
        )


# --- erasure (GDPR Art. 17, LOPDGDD Art. 32) -----------------------------------------------


def purge_date(blocked_on: date, years: int) -> date:
    """The end of the blocking period: the same date ``years`` later (29 February: 28th)."""
    return deadlines.add_months(blocked_on, 12 * years)


@_refreshes
def erasure_carry_out(
    *,
    rights_request: RightsRequest,
    user: User,
    exception: str = "",
    exception_scope: str = "",
    exception_note: str = "",
    keep_until: date | None = None,
) -> RightsRequest:
    """GDPR Art. 17 as LOPDGDD Art. 32 has it done: the person's consents are withdrawn (ledger
    events naming the request), their group stays are ended, their links stop working, and
    they are BLOCKED: kept only for courts and authorities, out of every normal list, search,
    export and capture, until the purge date (blocked on + the organisation's blocking period),
    when rights_requests.purge removes their personal data.

    An Art. 17(3) exception is recorded with what it keeps: over all the data, nothing is
    erased; over part of it, the person is blocked all the same and the purge waits until
    ``keep_until`` (what the exception needs is kept blocked until then, e.g. the end of the
    limitation period of a legal claim).
    """
    exception_note = (exception_note or "").strip()
    if exception and exception not in ErasureException.values:
        raise ValidationError(_("Unknown Art. 17(3) exception."))
    if exception and exception_scope not in (SCOPE_ALL, SCOPE_PART):
        raise ValidationError(_("Say whether the exception covers all of the data or part of it."))
    if exception and not exception_note:
        raise ValidationError(
            _("Say what the Art. 17(3) exception keeps and why: it goes into the answer.")
        )
    if not exception and (exception_scope or keep_until):
        raise ValidationError(_("A scope and a later purge date go only with an exception."))
    with transaction.atomic():
        locked = _locked(rights_request, Right.ERASURE)
        subject = locked.subject
        summary = {
            "exception": exception,
            "exception_scope": exception_scope if exception else "",
            "exception_note": exception_note,
        }
        locked.erasure_exception = exception
        if exception and exception_scope == SCOPE_ALL:
            return _record(
                locked, user, {**summary, "erased": False, "blocked": False}, "erasure_exception"
            )

        today = timezone.localdate()
        default_purge = purge_date(today, locked.organisation.blocking_years)
        purge_after = default_purge
        if keep_until is not None:
            if keep_until <= default_purge:
                raise ValidationError(
                    _(
                        "Keep the data until after %(date)s, the end of the blocking period,"
                        " or leave the date empty."
                    )
                    % {"date": default_purge.isoformat()}
                )
            purge_after = keep_until
        told = recipients(subject)
        withdrawn = _withdraw_granted(locked, user)
        now = timezone.now()
        left = list(GroupMembership.objects.filter(subject=subject).current())
        for membership in left:
            # Recorded as left now: the DPO removes them from the group (listed below).
            membership.left_at = now
            membership.save(update_fields=["left_at"])
        consent_services.subject_block(
            subject=subject, request_pk=locked.pk, purge_after=purge_after, user=user
        )
        return _record(
            locked,
            user,
            {
                **summary,
                "erased": True,
                "blocked": True,
                "blocked_at": now.isoformat(),
                "purge_after": purge_after.isoformat(),
                "withdrawn_events": _sequences(withdrawn),
                "groups_left": [m.group_id for m in left],
                "recipients": told,
            },
            "erasure_exception",
        )


# --- restriction (GDPR Art. 18) -------------------------------------------------------------


@_refreshes
def restriction_carry_out(
    *, rights_request: RightsRequest, user: User, ground: str, note: str = ""
) -> RightsRequest:
    """GDPR Art. 18: the person's data is only kept; capture, links and messages refuse
    (consents.rules.ensure_not_restricted) until the restriction is lifted. Art. 19: the
    recipients to tell are listed."""
    if ground not in RESTRICTION_GROUNDS:
        raise ValidationError(_("Choose the ground of the restriction (GDPR Art. 18(1))."))
    with transaction.atomic():
        locked = _locked(rights_request, Right.RESTRICTION)
        subject = consent_services.subject_restrict(
            subject=locked.subject, request_pk=locked.pk, user=user
        )
        return _record(
            locked,
            user,
            {
                "ground": ground,
                "article": RESTRICTION_GROUNDS[ground],
                "note": (note or "").strip(),
                "restricted_at": subject.restricted_at.isoformat(),
                "recipients": recipients(subject),
                "lifted": None,
            },
        )


@_refreshes
@transaction.atomic
def restriction_lift(*, rights_request: RightsRequest, user: User, reason: str) -> RightsRequest:
    """GDPR Art. 18(3): lift the restriction this request set, once the person was told. When,
    by whom and why goes into the request's summary and both histories."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Say why the restriction ends (the person must be told before: Art. 18(3)).")
        )
    locked = (
        RightsRequest.objects.select_for_update(of=("self",))
        .select_related("subject")
        .get(pk=rights_request.pk)
    )
    summary = dict(locked.carried_out or {})
    if locked.right != Right.RESTRICTION or locked.carried_out_at is None:
        raise ValidationError(_("This request has not restricted anything."))
    if summary.get("lifted"):
        raise ValidationError(_("This restriction was lifted already."))
    subject = locked.subject
    if subject is None or subject.restriction_request_pk != locked.pk:
        raise ValidationError(_("The person's restriction comes from another request."))
    consent_services.subject_restriction_lift(subject=subject, user=user)
    summary["lifted"] = {
        "at": timezone.now().isoformat(),
        "by": user.pk if user else None,
        "reason": reason,
    }
    locked.carried_out = summary
    locked._history_user = user
    locked.save(update_fields=["carried_out"])
    return locked


# --- objection (GDPR Art. 21) and withdrawal of every consent (Art. 7(3)) ------------------


@_refreshes
def objection_carry_out(*, rights_request: RightsRequest, user: User) -> RightsRequest:
    """GDPR Art. 21(2)-(3): objection to direct marketing is absolute. Every marketing consent
    is withdrawn (a ledger event each, naming the request) and the number goes on the
    suppression list, which capture, imports and links respect from now on, even after the
    person's data is purged (it holds a keyed hash of the number, not the number)."""
    with transaction.atomic():
        locked = _locked(rights_request, Right.OBJECTION)
        subject = locked.subject
        withdrawn = _withdraw_granted(locked, user, category=PurposeCategory.MARKETING)
        entry, created = consent_services.suppression_add(
            organisation=locked.organisation,
            phone=subject.phone,
            reason=SuppressionReason.OBJECTION,
            request_pk=locked.pk,
            user=user,
        )
        return _record(
            locked,
            user,
            {
                "withdrawn_events": _sequences(withdrawn),
                "purposes": sorted({e.purpose.code for e in withdrawn}),
                "suppressed": True,
                "suppression_id": entry.pk,
                "already_suppressed": not created,
            },
        )


@_refreshes
def withdrawal_carry_out(*, rights_request: RightsRequest, user: User) -> RightsRequest:
    """GDPR Art. 7(3): withdraw every consent the person has granted, one ledger event per
    purpose, each naming the request."""
    with transaction.atomic():
        locked = _locked(rights_request, Right.WITHDRAWAL)
        withdrawn = _withdraw_granted(locked, user)
        return _record(
            locked,
            user,
            {
                "withdrawn_events": _sequences(withdrawn),
                "purposes": sorted({e.purpose.code for e in withdrawn}),
            },
        )


# Rights whose answer must wait until the request is carried out (PART A's answer step).
NEEDS_CARRYING_OUT = frozenset(
    {
        Right.ACCESS,
        Right.PORTABILITY,
        Right.RECTIFICATION,
        Right.ERASURE,
        Right.RESTRICTION,
        Right.OBJECTION,
        Right.WITHDRAWAL,
    }
)


def must_carry_out_before_answering(rights_request: RightsRequest) -> bool:
    """Whether an answer (not a refusal) may be sent only once the request is carried out."""
    return rights_request.right in NEEDS_CARRYING_OUT and rights_request.carried_out_at is None
