from .selectors import dashboard_figures


def panel(request):
    """Dashboard panel: people, consent coverage per purpose, events this week, last check."""
    figures = dashboard_figures(request.organisation)
    total = figures["subject_count"]
    figures["coverage"] = [
        (purpose, count, round(100 * count / total) if total else 0)
        for purpose, count in figures["coverage"]
    ]
    return {"template": "consents/includes/dashboard_panel.html", **figures}
