from .checklist import answers
from .selectors import needs_acknowledgement


def checklist(request):
    """Dashboard panel: the DPO's eight questions, and the policy this member must acknowledge."""
    org = request.organisation
    return {
        "template": "groups/includes/checklist_panel.html",
        "answers": answers(org),
        "pending_policy": needs_acknowledgement(organisation=org, user=request.user),
    }
