"""Writes on organisations and memberships that must keep an invariant."""

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import AuditEntry, Membership, Organisation, User
from .request_info import client_ip
from .roles import Role


def organisation_update(*, organisation: Organisation, data: dict) -> Organisation:
    for field, value in data.items():
        setattr(organisation, field, value)
    organisation.full_clean()
    organisation.save()
    return organisation


def _lock_memberships(organisation: Organisation) -> list[Membership]:
    # Lock every membership of the organisation: two DPOs removing each other at the same moment
    # would otherwise both see "another DPO remains" and leave the organisation with none.
    return list(Membership.objects.select_for_update().filter(organisation=organisation))


def _ensure_a_dpo_remains(memberships: list[Membership], *, leaving: Membership) -> None:
    others = [m for m in memberships if m.pk != leaving.pk and m.role == Role.DPO]
    if leaving.role == Role.DPO and not others:
        raise ValidationError(
            _("%(name)s is the last DPO of this organisation. Make someone else DPO first.")
            % {"name": leaving.user.display_name}
        )


def set_password_url(*, user: User, base_url: str) -> str:
    """A one-time link: the token is bound to the current password hash and last login."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:set_password", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


@transaction.atomic
def membership_invite(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    full_name: str = "",
    invited_by: User,
    base_url: str,
) -> Membership:
    """Add a person by e-mail. A new user gets a one-time link to set a password."""
    if role not in Role.values:
        raise ValidationError(_("Choose a role."))
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, full_name=full_name.strip())
        user.set_unusable_password()
        user.full_clean()
        user.save()
    if Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValidationError(
            _("%(email)s is already a member of this organisation.") % {"email": email}
        )
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()

    context = {
        "organisation": organisation,
        "invited_by": invited_by,
        "role": membership.get_role_display(),
        "new_user": created,
        "link": (
            set_password_url(user=user, base_url=base_url)
            if created or not user.has_usable_password()
            else base_url.rstrip("/") + reverse("accounts:login")
        ),
    }
    with translation.override(organisation.default_language):
        subject = _("You have been added to %(org)s on Constancia") % {
            "org": organisation.legal_name
        }
        body = render_to_string("emails/member_invited.txt", context)
    # Send only once the membership is committed: a rolled-back invite must not e-mail anyone.
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("Choose a role."))
    memberships = _lock_memberships(membership.organisation)
    current = next(m for m in memberships if m.pk == membership.pk)
    if role != Role.DPO:
        _ensure_a_dpo_remains(memberships, leaving=current)
    current.role = role
    current.full_clean()
    current.save()
    return current


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    memberships = _lock_memberships(membership.organisation)
    current = next(m for m in memberships if m.pk == membership.pk)
    _ensure_a_dpo_remains(memberships, leaving=current)
    current.delete()


def audit_record(
    *,
    organisation: Organisation,
    user: User | None,
    request=None,
    register: str,
    action: str,
    object_id: str = "",
    object_repr: str = "",
    details: list[dict] | None = None,
) -> AuditEntry:
    """Put on record an act that changes no register (e.g. taking a copy of evidence)."""
    return AuditEntry.objects.create(
        organisation=organisation,
        user=user,
        ip_address=client_ip(request),
        register=register,
        action=action,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        changes=details or [],
    )
