"""What the fulfilment panel shows (templates/rights_requests/includes/fulfilment_panel.html).

The panel is included by more than one page with only ``rights_request`` and ``request`` in
its context; it asks this tag for the rest:

    {% load fulfilment %}{% fulfilment_panel_context rights_request request as panel %}
"""

from datetime import date, datetime

from django import template

from jobs.models import Job
from rights_requests import fulfilment
from rights_requests.choices import ErasureException, Right
from rights_requests.fulfilment_forms import RESTRICTION_GROUND_CHOICES, RestrictionLiftForm

register = template.Library()


def _day(value):
    return date.fromisoformat(value) if value else None


def _instant(value):
    return datetime.fromisoformat(value) if value else None


@register.simple_tag
def fulfilment_panel_context(rights_request, request) -> dict:
    membership = getattr(request, "membership", None)
    can_carry_out = bool(membership and membership.can("carry_out_rights"))
    summary = rights_request.carried_out or {}
    done = rights_request.carried_out_at is not None
    jobs = list(fulfilment.export_jobs(rights_request)[:5])
    lifted = summary.get("lifted") or None
    return {
        "right": rights_request.right,
        "done": done,
        "summary": summary,
        "problems": [] if done else fulfilment.readiness(rights_request),
        "can_carry_out": can_carry_out,
        "can_download": bool(membership and membership.can("export")),
        "jobs": jobs,
        "job_pending": any(j.status in (Job.Status.QUEUED, Job.Status.RUNNING) for j in jobs),
        "recipients": summary.get("recipients") or [],
        "purge_after": _day(summary.get("purge_after")),
        "blocked_at": _instant(summary.get("blocked_at")),
        "exception_label": dict(ErasureException.choices).get(summary.get("exception"), ""),
        "ground_label": dict(RESTRICTION_GROUND_CHOICES).get(summary.get("ground"), ""),
        "lifted": lifted,
        "lifted_at": _instant(lifted["at"]) if lifted else None,
        "lift_form": (
            RestrictionLiftForm()
            if can_carry_out and done and rights_request.right == Right.RESTRICTION and not lifted
            else None
        ),
        "blocking_years": rights_request.organisation.blocking_years,
        "next": request.get_full_path(),
    }


@register.filter
def shown_time(value) -> str:
    """An ISO 8601 instant of an export's records as people read it: "2026-03-10 13:05"."""
    if not value:
        return ""
    try:
        return f"{datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M}"
    except ValueError:
        return str(value)


@register.filter
def language_name(code) -> str:
    from django.conf import settings
    from django.utils.translation import gettext

    return gettext(dict(settings.LANGUAGES).get(code, code)) if code else ""
