"""Reads of the rights-request register that pages share: the list (now or as it stood on a
date), the deadlines, and a request's timeline told from its history."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consents.phones import try_parse_phone

from .choices import CLOSED, RequestStatus, SentVia, VerificationMethod
from .models import RightsRequest

REFERENCE_PREFIX = "R-"


def _search(requests, organisation, query: str):
    query = (query or "").strip()
    if not query:
        return requests
    # A reference as the person quotes it ("R-2026-00012") or its number alone.
    tail = query.upper().removeprefix(REFERENCE_PREFIX).rsplit("-", 1)[-1]
    if tail.isdigit() and (query.upper().startswith(REFERENCE_PREFIX) or len(tail) < 7):
        return requests.filter(pk=int(tail))
    phone = try_parse_phone(query, organisation.country)
    if phone is not None:
        return requests.filter(Q(requester_phone=phone) | Q(subject__phone=phone))
    return requests.filter(
        Q(requester_name__icontains=query)
        | Q(requester_email__iexact=query)
        | Q(subject__full_name__icontains=query)
    )


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max), timezone.get_current_timezone())


def register(organisation, *, data: dict, today: date):
    """The requests the register page lists for the filter ``data`` (RegisterFilterForm).

    With ``as_of`` the rows are the requests as they stood at the end of that day, read from
    their history (ARCHITECTURE invariant 6): statuses, due dates and handlers as they were then.
    """
    as_of = data.get("as_of")
    if as_of:
        requests = RightsRequest.history.as_of(end_of_day(as_of)).filter(organisation=organisation)
        today = min(today, as_of)
    else:
        requests = RightsRequest.objects.filter(organisation=organisation)
    requests = _search(requests, organisation, data.get("q", ""))
    open_ = ~Q(status__in=CLOSED)
    running = open_ & Q(clock_stopped_on__isnull=True)
    when = data.get("when") or "open"
    if when == "open":
        requests = requests.filter(open_)
    elif when == "overdue":
        requests = requests.filter(running, current_due_on__lt=today)
    elif when == "week":
        requests = requests.filter(
            running, current_due_on__gte=today, current_due_on__lte=today + timedelta(days=7)
        )
    elif when == "closed":
        requests = requests.filter(status__in=CLOSED)
    if data.get("status"):
        requests = requests.filter(status=data["status"])
    if data.get("right"):
        requests = requests.filter(right=data["right"])
    if as_of:
        return requests.order_by("current_due_on", "pk")
    return requests.select_related("subject", "handled_by").order_by("current_due_on", "pk")


def deadlines(organisation, today: date) -> dict:
    """Open requests by urgency, for the deadlines page and the dashboard."""
    requests = RightsRequest.objects.filter(organisation=organisation).select_related(
        "subject", "handled_by"
    )
    week = today + timedelta(days=7)
    return {
        "overdue": list(requests.overdue(today).order_by("current_due_on", "pk")),
        "due_today": list(requests.running().filter(current_due_on=today).order_by("pk")),
        "due_week": list(
            requests.due_between(today + timedelta(days=1), week).order_by("current_due_on", "pk")
        ),
        "stopped": list(
            requests.open().filter(clock_stopped_on__isnull=False).order_by("clock_stopped_on")
        ),
    }


def figures(organisation, today: date) -> dict:
    """The dashboard's four numbers: open, due this week, overdue, answered late this year."""
    requests = RightsRequest.objects.filter(organisation=organisation)
    return {
        "open": requests.open().count(),
        "due_week": requests.due_between(today, today + timedelta(days=7)).count(),
        "overdue": requests.overdue(today).count(),
        "late_this_year": requests.answered_late().filter(closed_on__year=today.year).count(),
        "decided_this_year": requests.decided().filter(closed_on__year=today.year).count(),
    }


# --- timeline ------------------------------------------------------------------------------


@dataclass
class Moment:
    at: datetime
    who: str
    text: str
    note: str = ""


def _who(user) -> str:
    return user.display_name if user is not None else ""


def _changes(previous, record) -> list[tuple[str, str]]:
    """(text, note) for each fact that changed between two historical rows."""
    out = []
    if previous.status != record.status:
        out.append(
            (
                _("Status: %(old)s → %(new)s")
                % {
                    "old": RequestStatus(previous.status).label,
                    "new": RequestStatus(record.status).label,
                },
                record.answer if record.status == RequestStatus.WITHDRAWN else "",
            )
        )
    if previous.identity_verified_at is None and record.identity_verified_at is not None:
        method = VerificationMethod(record.identity_method).label if record.identity_method else ""
        out.append((_("Identity verified: %(method)s") % {"method": method}, record.identity_note))
    if previous.handled_by_id != record.handled_by_id:
        handler = record.handled_by
        out.append(
            (
                _("Handled by %(name)s") % {"name": handler.display_name}
                if handler
                else _("Nobody handles it now"),
                "",
            )
        )
    if previous.clock_stopped_on is None and record.clock_stopped_on is not None:
        out.append((_("Clock stopped"), record.clock_stop_reason))
    if previous.clock_stopped_on is not None and record.clock_stopped_on is None:
        out.append(
            (
                _("Clock running again: %(days)s days stood still in all")
                % {"days": record.days_stopped},
                "",
            )
        )
    if previous.current_due_on != record.current_due_on:
        from django.utils.formats import date_format

        out.append(
            (
                _("Due date now %(due)s") % {"due": date_format(record.current_due_on)},
                "",
            )
        )
    if not previous.extension_months and record.extension_months:
        out.append(
            (
                _("Extended by %(n)s months") % {"n": record.extension_months},
                record.extension_reason,
            )
        )
    if previous.carried_out_at is None and record.carried_out_at is not None:
        summary = (record.carried_out or {}).get("summary", "")
        out.append((_("Carried out"), summary if isinstance(summary, str) else ""))
    return out


def timeline(rights_request: RightsRequest) -> list[Moment]:
    """What happened to the request, oldest first: its history, letters, files and reminders."""
    moments = []
    previous = None
    for record in rights_request.history.select_related("history_user").order_by(
        "history_date", "history_id"
    ):
        who = _who(record.history_user)
        if previous is None:
            if record.channel == "personal_link":
                text = _("Asked through the personal consent link")
            elif record.channel == "web_form":
                text = _("Sent through the public request form")
            else:
                text = _("Logged: received by %(channel)s") % {
                    "channel": rights_request.Channel(record.channel).label
                }
            moments.append(Moment(record.history_date, who, text, record.details))
        else:
            for text, note in _changes(previous, record):
                moments.append(Moment(record.history_date, who, text, note))
        previous = record
    for letter in rights_request.letters.select_related("created_by"):
        moments.append(
            Moment(
                letter.created_at,
                _who(letter.created_by),
                _("Letter written: %(kind)s") % {"kind": letter.get_kind_display()},
            )
        )
        if letter.sent_at:
            moments.append(
                Moment(
                    letter.sent_at,
                    "",
                    _("Letter sent (%(via)s): %(kind)s")
                    % {"via": SentVia(letter.sent_via).label, "kind": letter.get_kind_display()},
                    letter.sent_to,
                )
            )
    for attachment in rights_request.attachments.select_related("created_by"):
        moments.append(
            Moment(
                attachment.created_at,
                _who(attachment.created_by),
                _("File kept: %(name)s") % {"name": attachment.original_name},
            )
        )
    for reminder in rights_request.reminders.all():
        moments.append(
            Moment(
                reminder.sent_at,
                "",
                _("Reminder e-mailed: %(stage)s") % {"stage": reminder.get_stage_display()},
            )
        )
    return sorted(moments, key=lambda m: m.at)
