"""{% load rights_requests %}: a request's status badge and how its deadline stands."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rights_requests.choices import CLOSED, RequestStatus

register = template.Library()

STATUS_STYLE = {
    RequestStatus.IDENTITY: "warning",
    RequestStatus.RECEIVED: "secondary",
    RequestStatus.IN_PROGRESS: "primary",
    RequestStatus.EXTENDED: "info",
    RequestStatus.ANSWERED: "success",
    RequestStatus.REJECTED: "dark",
    RequestStatus.WITHDRAWN: "light",
}


@register.inclusion_tag("rights_requests/includes/status_badge.html")
def status_badge(rights_request):
    return {
        "label": RequestStatus(rights_request.status).label,
        "style": STATUS_STYLE.get(rights_request.status, "secondary"),
        "status": rights_request.status,
    }


@register.simple_tag
def deadline_state(rights_request, today=None) -> dict:
    """{"text", "style"} for where the request stands against its due date on ``today``."""
    today = today or timezone.localdate()
    if rights_request.status in CLOSED:
        if rights_request.status == RequestStatus.WITHDRAWN or rights_request.closed_on is None:
            return {"text": _("closed"), "style": "secondary", "late": False}
        late = rights_request.closed_on > rights_request.current_due_on
        return {
            "text": _("answered late") if late else _("answered on time"),
            "style": "danger" if late else "success",
            "late": late,
        }
    if rights_request.clock_stopped_on is not None:
        return {"text": _("clock stopped"), "style": "info", "late": False}
    left = (rights_request.current_due_on - today).days
    if left < 0:
        text = ngettext("%(n)s day overdue", "%(n)s days overdue", -left) % {"n": -left}
        return {"text": text, "style": "danger", "late": True}
    if left == 0:
        return {"text": _("due today"), "style": "danger", "late": False}
    text = ngettext("%(n)s day left", "%(n)s days left", left) % {"n": left}
    return {"text": text, "style": "warning" if left <= 7 else "success", "late": False}
