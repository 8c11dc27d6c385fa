from .models import Invitation
from .roles import PERMISSIONS, role_can

# Pages that list the person's invitations themselves: no banner pointing to them there.
_INVITATION_PAGES = {"accounts:organisations", "accounts:invitation"}


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
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and not (match and match.view_name in _INVITATION_PAGES)
    ):
        # Counted only if the page shows the banner (base.html does): one indexed query.
        context["invitations_for_me"] = Invitation.objects.pending().filter(user=user).count
    return context
