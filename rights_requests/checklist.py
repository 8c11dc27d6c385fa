"""The DPO's checklist question on rights requests (groups.checklist, settings.CHECKLIST_QUESTIONS).

"Were all rights requests answered on time?" (GDPR Art. 12(3)), from the register:
- "no" while any open request is overdue now (its clock running, its due date past);
- "partly" when none is overdue now but a request answered or refused in the last 12 months
  went out after its due date;
- "yes" otherwise, including when no request was decided in those 12 months.
A withdrawn request is owed no answer and does not count.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import RightsRequest

PERIOD_DAYS = 365


def answered_on_time(organisation) -> dict:
    today = timezone.localdate()
    requests = RightsRequest.objects.filter(organisation=organisation)
    overdue = requests.overdue(today).count()
    decided = requests.decided().filter(closed_on__gt=today - timedelta(days=PERIOD_DAYS))
    late = decided.answered_late().count()
    total = decided.count()
    register = reverse("rights_requests:list", args=[organisation.slug])
    if overdue:
        status = "no"
        figure = ngettext(
            "%(n)s request is overdue now", "%(n)s requests are overdue now", overdue
        ) % {"n": overdue}
        link = register + "?when=overdue"
    elif late:
        status = "partly"
        figure = _("%(late)s of %(total)s answered late in the last 12 months") % {
            "late": late,
            "total": total,
        }
        link = register + "?when=closed"
    else:
        status = "yes"
        figure = (
            ngettext(
                "%(n)s request answered on time in the last 12 months",
                "All %(n)s requests answered on time in the last 12 months",
                total,
            )
            % {"n": total}
            if total
            else _("No request answered in the last 12 months")
        )
        link = register + "?when=all"
    return {
        "question": _("Were all rights requests answered on time?"),
        "status": status,
        "figure": figure,
        "link": link,
    }
