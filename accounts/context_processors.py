from .roles import PERMISSIONS, role_can


def organisation(request):
    """The current organisation and role, shown on every page (set by accounts.access.org_view)."""
    membership = getattr(request, "membership", None)
    context = {"organisation": getattr(request, "organisation", None), "membership": membership}
    if membership is not None:
        context["org_perms"] = {p: role_can(membership.role, p) for p in PERMISSIONS}
        context["other_memberships"] = (
            request.user.memberships.select_related("organisation")
            .exclude(pk=membership.pk)
            .order_by("organisation__legal_name")
        )
    return context
