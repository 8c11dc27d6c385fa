from .selectors import needs_acknowledgement


def pending_policy(request):
    """The WhatsApp usage policy this member has not acknowledged yet, shown on every page of the
    organisation until they do (DOMAIN.md question 7)."""
    membership = getattr(request, "membership", None)
    match = getattr(request, "resolver_match", None)
    if membership is None or (match and match.view_name == "groups:policy_acknowledge"):
        return {}
    return {
        "pending_policy": needs_acknowledgement(
            organisation=membership.organisation, user=request.user
        )
    }
