"""The DPO's checklist question on the record of processing (groups.checklist,
settings.CHECKLIST_QUESTIONS).

"Is every purpose in the record of processing, with nothing missing?" (GDPR Art. 30):
- "no" when no activity is in force (draft or active) at all;
- "partly" when processing.checks finds a gap (a purpose with no activity, a transfer without
  safeguard, special categories without an Art. 9(2) condition, a missing retention, a DPIA
  needed and not done);
- "yes" otherwise.
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .checks import summary


def record_complete(organisation) -> dict:
    figures = summary(organisation)
    gaps = len(figures["findings"])
    if not figures["activities"]:
        status, figure = "no", _("No processing activities recorded")
    elif gaps:
        status = "partly"
        figure = ngettext(
            "%(n)s gap in the record of processing", "%(n)s gaps in the record of processing", gaps
        ) % {"n": gaps}
    else:
        status = "yes"
        figure = ngettext(
            "%(n)s activity recorded, no gaps",
            "%(n)s activities recorded, no gaps",
            figures["activities"],
        ) % {"n": figures["activities"]}
    return {
        "question": _("Is every purpose in the record of processing, with nothing missing?"),
        "status": status,
        "figure": figure,
        "link": reverse("processing:register", args=[organisation.slug]),
    }
