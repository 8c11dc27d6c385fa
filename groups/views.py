from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import get_for_org_or_404, org_view, run_and_tell
from accounts.qr import qr_data_uri
from accounts.request_info import client_ip
from consents.models import of_visible_subjects

from . import selectors, services
from .forms import GroupForm, MemberAddForm, PolicyForm, RosterForm, StaffAccountForm
from .models import GroupMembership, RosterCheck, StaffAccount, UsagePolicyVersion, WhatsAppGroup

GROUP_FIELDS = ("name", "purpose", "kind", "invite_url")
STAFF_FIELDS = ("phone", "label", "employee", "number_type", "app", "active")

# --- groups ---------------------------------------------------------------------------------


@org_view("view")
def group_list(request):
    groups = WhatsAppGroup.objects.filter(organisation=request.organisation).select_related(
        "purpose"
    )
    rows = [(group, selectors.group_flags(group)) for group in groups.prefetch_related("admins")]
    return render(request, "groups/group_list.html", {"rows": rows})


def _save_group(request, group):
    form = GroupForm(request.POST or None, instance=group, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in GROUP_FIELDS}
        try:
            group = services.group_save(
                group=group,
                organisation=request.organisation,
                data=data,
                admins=list(form.cleaned_data["admins"]),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Group saved."))
            return redirect("groups:group", org_slug=request.organisation.slug, pk=group.pk)
    return render(request, "groups/group_form.html", {"form": form, "group": group})


@org_view("manage_groups")
def group_create(request):
    return _save_group(request, WhatsAppGroup(organisation=request.organisation))


@org_view("manage_groups")
def group_edit(request, pk):
    return _save_group(request, get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk))


@org_view("manage_groups")
@require_POST
def group_archive(request, pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.group_archive(group=group),
        _("Group archived: its invite link no longer works."),
    )
    return redirect("groups:group", org_slug=request.organisation.slug, pk=group.pk)


@org_view("view")
def group_detail(request, pk):
    group = get_for_org_or_404(
        WhatsAppGroup.objects.select_related("purpose"), request.organisation, pk=pk
    )
    rows = selectors.group_member_rows(group)
    invite_link = request.build_absolute_uri(reverse("groups:invite", args=[group.invite_token]))
    context = {
        "group": group,
        "rows": rows,
        "flags": selectors.group_flags(group, rows),
        "invite_link": invite_link,
        "qr": qr_data_uri(invite_link, scale=4, svg=True) if group.is_active else "",
        "former": GroupMembership.objects.filter(group=group, left_at__isnull=False)
        .filter(of_visible_subjects())
        .select_related("subject")
        .order_by("-left_at")[:50],
        "checks": RosterCheck.objects.filter(group=group)[:5],
    }
    return render(request, "groups/group_detail.html", context)


@org_view("manage_group_members")
def member_add(request, pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    form = MemberAddForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_member_add(
                group=group,
                phone=form.cleaned_data["phone"],
                full_name=form.cleaned_data["full_name"],
                added_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.warning(
                request,
                _("Member added. They stay flagged until they consent to joining the group."),
            )
            return redirect("groups:group", org_slug=request.organisation.slug, pk=group.pk)
    return render(request, "groups/member_add.html", {"form": form, "group": group})


@org_view("manage_group_members")
@require_POST
def member_leave(request, pk, membership_pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    membership = get_for_org_or_404(
        GroupMembership, request.organisation, pk=membership_pk, group=group
    )
    run_and_tell(
        request,
        lambda: services.group_member_leave(membership=membership),
        _("Marked as left the group."),
    )
    return redirect("groups:group", org_slug=request.organisation.slug, pk=group.pk)


# --- roster checks --------------------------------------------------------------------------


@org_view("manage_group_members")
def roster_check(request, pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    form = RosterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = services.roster_check_create(
                group=group, text=form.cleaned_data["text"], checked_by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(
                "groups:roster_result",
                org_slug=request.organisation.slug,
                pk=group.pk,
                check_pk=check.pk,
            )
    return render(request, "groups/roster_form.html", {"form": form, "group": group})


@org_view("manage_group_members")
def roster_result(request, pk, check_pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    check = get_for_org_or_404(RosterCheck, request.organisation, pk=check_pk, group=group)
    sections = [
        ("valid", _("Valid consent"), "success"),
        ("withdrawn", _("Consent withdrawn"), "danger"),
        ("no_consent", _("In the register, without consent"), "warning"),
        ("unknown", _("Not in the register"), "warning"),
        ("missing", _("Recorded as members, no longer in the group"), "secondary"),
        ("unreadable", _("Lines without a phone number"), "secondary"),
    ]
    sections = [(key, label, tone, check.results.get(key, [])) for key, label, tone in sections]
    return render(
        request,
        "groups/roster_result.html",
        {"group": group, "check": check, "sections": sections},
    )


@org_view("manage_group_members")
@require_POST
def roster_record(request, pk, check_pk):
    group = get_for_org_or_404(WhatsAppGroup, request.organisation, pk=pk)
    check = get_for_org_or_404(RosterCheck, request.organisation, pk=check_pk, group=group)
    try:
        services.roster_check_record(check=check, recorded_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(
            "groups:roster_result", org_slug=request.organisation.slug, pk=pk, check_pk=check_pk
        )
    messages.success(request, _("Recorded as the group's current roster."))
    return redirect("groups:group", org_slug=request.organisation.slug, pk=group.pk)


# --- staff accounts -------------------------------------------------------------------------


def _save_staff_account(request, account):
    """(form, redirect): the redirect is set once the account was saved."""
    initial = {}
    if account.pk:
        initial = {name: getattr(account, name) for name in STAFF_FIELDS}
        initial["phone"] = account.phone.as_international
    form = StaffAccountForm(
        request.POST or None, initial=initial, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_account_save(
                account=account, organisation=request.organisation, data=form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Staff account saved."))
            return form, redirect("groups:staff_accounts", org_slug=request.organisation.slug)
    return form, None


@org_view("manage_groups")
def staff_account_list(request):
    form, saved = _save_staff_account(request, StaffAccount())
    if saved:
        return saved
    accounts = StaffAccount.objects.filter(organisation=request.organisation).select_related(
        "employee__user"
    )
    return render(request, "groups/staff_account_list.html", {"form": form, "accounts": accounts})


@org_view("manage_groups")
def staff_account_edit(request, pk):
    account = get_for_org_or_404(StaffAccount, request.organisation, pk=pk)
    form, saved = _save_staff_account(request, account)
    if saved:
        return saved
    return render(request, "groups/staff_account_form.html", {"form": form, "account": account})


# --- usage policy ---------------------------------------------------------------------------


@org_view("manage_groups")
def policy_list(request):
    org = request.organisation
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_save_draft(
                policy=UsagePolicyVersion(),
                organisation=org,
                data=form.cleaned_data,
                created_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect("groups:policy_edit", org_slug=org.slug, pk=policy.pk)
    current = selectors.current_policy(org)
    context = {
        "form": form,
        "policies": UsagePolicyVersion.objects.filter(organisation=org),
        "current": current,
        "pending": selectors.members_without_acknowledgement(org, current),
        "acknowledgements": current.acknowledgements.select_related("user") if current else [],
    }
    return render(request, "groups/policy_list.html", context)


@org_view("manage_groups")
def policy_edit(request, pk):
    policy = get_for_org_or_404(UsagePolicyVersion, request.organisation, pk=pk)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save_draft(
                policy=policy,
                organisation=request.organisation,
                data=form.cleaned_data,
                created_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("groups:policy_edit", org_slug=request.organisation.slug, pk=pk)
    return render(request, "groups/policy_form.html", {"form": form, "policy": policy})


@org_view("manage_groups")
@require_POST
def policy_publish(request, pk):
    policy = get_for_org_or_404(UsagePolicyVersion, request.organisation, pk=pk)
    run_and_tell(
        request,
        lambda: services.policy_publish(policy=policy, published_by=request.user, request=request),
        _("Policy published: every member is asked to acknowledge it."),
    )
    return redirect("groups:policies", org_slug=request.organisation.slug)


@org_view("view")
def policy_acknowledge(request):
    org = request.organisation
    policy = selectors.current_policy(org)
    acknowledged = policy is not None and policy.acknowledgements.filter(user=request.user).first()
    if request.method == "POST" and policy is not None:
        services.policy_acknowledge(policy=policy, user=request.user, ip_address=client_ip(request))
        messages.success(request, _("Thank you: your acknowledgement is on record."))
        return redirect("accounts:dashboard", org_slug=org.slug)
    return render(
        request,
        "groups/policy_acknowledge.html",
        {"policy": policy, "acknowledged": acknowledged},
    )
