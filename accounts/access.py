"""The one access mechanism every organisation page uses (ARCHITECTURE invariant 1).

Organisation pages live under /o/<org_slug>/. ``org_view(permission)`` resolves the organisation
from the URL *through the user's memberships*: a user who is not a member gets 404 (we do not even
confirm the organisation exists), a member whose role lacks the permission gets 403. The view then
receives ``request.organisation`` and ``request.membership`` and must fetch every object through
``get_for_org_or_404`` (or a queryset filtered on ``request.organisation``).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Membership
from .roles import PERMISSIONS

SESSION_KEY = "current_org"


def org_view(permission: str = "view"):
    if permission not in PERMISSIONS:
        raise ValueError(f"Unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = (
                Membership.objects.select_related("organisation")
                .filter(user=request.user, organisation__slug=org_slug)
                .first()
            )
            if membership is None:
                raise Http404("No such organisation")
            if not membership.can(permission):
                raise PermissionDenied
            request.organisation = membership.organisation
            request.membership = membership
            request.session[SESSION_KEY] = org_slug
            return view(request, *args, **kwargs)

        wrapper.org_permission = permission
        return wrapper

    return decorator


def get_for_org_or_404(queryset_or_model, organisation, **lookups):
    """Fetch one object of ``organisation``; any other organisation's object is a 404."""
    return get_object_or_404(queryset_or_model, organisation=organisation, **lookups)


def run_and_tell(request, service, success: str = "") -> bool:
    """Run one service for a page that only acts (a POST, then a redirect) and tell the person
    how it went: its ValidationError becomes the error shown (and nothing changed), else
    ``success`` is shown. Returns whether the service succeeded."""
    try:
        service()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    if success:
        messages.success(request, success)
    return True
