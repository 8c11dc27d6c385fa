from .checks import summary


def panel(request):
    """Dashboard panel: the record of processing activities and its gaps (processing.checks)."""
    return {"template": "processing/includes/dashboard_panel.html", **summary(request.organisation)}
