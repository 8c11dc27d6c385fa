from .selectors import dashboard_figures


def panel(request):
    """Dashboard panel: people, consent coverage per purpose, events this week, last check."""
    figures = dashboard_figures(request.organisation)
    rows = []
    for purpose, count in figures["coverage"]:
        # A purpose meant for one kind of person (consents.rules.ensure_fits) can only ever be
        # granted by people of that kind: measured against everyone, an employees' group
        # fully consented would show as a few per cent.
        if purpose.audience:
            total = figures["subject_count_by_kind"].get(purpose.audience, 0)
        else:
            total = figures["subject_count"]
        rows.append((purpose, count, round(100 * count / total) if total else 0, total))
    figures["coverage"] = rows
    return {"template": "consents/includes/dashboard_panel.html", **figures}
