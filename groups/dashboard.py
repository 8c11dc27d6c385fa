from .checklist import answers


def checklist(request):
    """Dashboard panel: the DPO's eight questions (the policy banner is on every page)."""
    org = request.organisation
    return {
        "template": "groups/includes/checklist_panel.html",
        "answers": answers(org),
    }
