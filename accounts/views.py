from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import services
from .access import SESSION_KEY, get_for_org_or_404, org_view, run_and_tell
from .dashboard import dashboard_panels
from .filters import AuditEntryFilter
from .forms import MemberInviteForm, OrganisationForm, RoleForm
from .models import AuditEntry, Invitation, Membership
from .roles import Role


@login_required
def home(request):
    """Send the user to the organisation they used last, or let them choose."""
    memberships = request.user.memberships.select_related("organisation")
    slug = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if m.organisation.slug == slug), None)
    if current is None and len(memberships) == 1:
        current = memberships[0]
    if current is not None:
        return redirect("accounts:dashboard", org_slug=current.organisation.slug)
    return redirect("accounts:organisations")


@login_required
def organisation_list(request):
    memberships = request.user.memberships.select_related("organisation").order_by(
        "organisation__legal_name"
    )
    invitations = (
        Invitation.objects.pending()
        .filter(user=request.user)
        .select_related("organisation", "invited_by")
    )
    return render(
        request,
        "accounts/organisation_list.html",
        {"memberships": memberships, "invitations": invitations},
    )


@login_required
def invitation(request, token):
    """The page the invitation e-mail links to: who invites the person, to what, as what."""
    try:
        invitation = services.invitation_for_answer(token=token, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:organisations")
    return render(request, "accounts/invitation_detail.html", {"invitation": invitation})


@require_POST
@login_required
def invitation_accept(request, token):
    try:
        membership = services.invitation_accept(token=token, user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:organisations")
    messages.success(
        request,
        _("You are now a member of %(org)s.") % {"org": membership.organisation.legal_name},
    )
    return redirect("accounts:dashboard", org_slug=membership.organisation.slug)


@require_POST
@login_required
def invitation_decline(request, token):
    try:
        services.invitation_decline(token=token, user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation declined."))
    return redirect("accounts:organisations")


@org_view("view")
def dashboard(request):
    org = request.organisation
    counts = dict(
        org.memberships.values_list("role").annotate(n=Count("id")).values_list("role", "n")
    )
    context = {
        "member_counts": [(label, counts.get(value, 0)) for value, label in Role.choices],
        "member_total": sum(counts.values()),
        # An invited person keeps Django's unusable password ("!...") until they choose one.
        "pending_invitations": org.memberships.filter(
            user__password__startswith=UNUSABLE_PASSWORD_PREFIX
        ).count(),
    }
    context["panels"] = [p for p in (provider(request) for provider in dashboard_panels()) if p]
    if request.membership.can("view_activity"):
        context["recent_activity"] = org.audit_entries.select_related("user")[:8]
    return render(request, "accounts/dashboard.html", context)


@org_view("manage_organisation")
def organisation_edit(request):
    form = OrganisationForm(request.POST or None, instance=request.organisation)
    if request.method == "POST" and form.is_valid():
        services.organisation_update(organisation=request.organisation, data=form.cleaned_data)
        messages.success(request, _("Organisation details saved."))
        return redirect("accounts:organisation_edit", org_slug=request.organisation.slug)
    return render(request, "accounts/organisation_form.html", {"form": form})


@org_view("manage_members")
def member_list(request):
    org = request.organisation
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.membership_invite(
                organisation=org,
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if isinstance(added, Invitation):
                message = _(
                    "%(email)s has an account already and has been sent an invitation. They"
                    " become a member when they accept it."
                ) % {"email": added.email}
            else:
                message = _("%(email)s was added and has been sent an e-mail.") % {
                    "email": added.user.email
                }
            messages.success(request, message)
            return redirect("accounts:members", org_slug=org.slug)
    members = org.memberships.select_related("user").order_by("user__email")
    # Only the address typed and the state: the account's name stays theirs until they accept.
    invitations = org.invitations.filter(status=Invitation.Status.PENDING).only(
        "pk", "email", "role", "created_at", "expires_at", "status"
    )
    return render(
        request,
        "accounts/member_list.html",
        {"form": form, "members": members, "invitations": invitations, "roles": Role.choices},
    )


@org_view("manage_members")
@require_POST
def invitation_revoke(request, pk):
    invitation = get_for_org_or_404(Invitation, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.invitation_revoke(
            invitation=invitation, revoked_by=request.user, request=request
        ),
        _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email},
    )
    return redirect("accounts:members", org_slug=request.organisation.slug)


@org_view("manage_members")
@require_POST
def member_role(request, pk):
    membership = get_for_org_or_404(Membership, request.organisation, pk=pk)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a role."))
        services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Role changed."))
    return redirect("accounts:members", org_slug=request.organisation.slug)


@org_view("manage_members")
@require_POST
def member_remove(request, pk):
    membership = get_for_org_or_404(Membership, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.membership_remove(membership=membership),
        _("%(name)s was removed.") % {"name": membership.user.display_name},
    )
    return redirect("accounts:members", org_slug=request.organisation.slug)


@org_view("view_activity")
def activity(request):
    entries = AuditEntry.objects.filter(organisation=request.organisation).select_related("user")
    filterset = AuditEntryFilter(
        request.GET or None, queryset=entries, organisation=request.organisation
    )
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/activity_list.html", {"filter": filterset, "page": page})


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """First password of an invited member; the same one-time link mechanism as a reset."""

    template_name = "registration/set_password.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    title = gettext_lazy("Choose your password")


def password_reset_complete(request):
    messages.success(request, _("Your password has been set. You can log in now."))
    return redirect(reverse("accounts:login"))
