from django.utils import timezone

from .selectors import figures


def panel(request):
    """Dashboard panel: open requests, due this week, overdue, answered late this year."""
    if not request.membership.can("view_requests"):
        return None
    return {
        "template": "rights_requests/includes/dashboard_panel.html",
        **figures(request.organisation, timezone.localdate()),
    }
