"""Writes on organisations and memberships that must keep an invariant."""

from datetime import timedelta

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import (
    INVITATION_VALID_DAYS,
    AuditEntry,
    FrozenOnPublish,
    Invitation,
    Membership,
    Organisation,
    User,
)
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


def _send_on_commit(
    *, organisation: Organisation, subject: str, template: str, context: dict, to: str
):
    with translation.override(organisation.default_language):
        subject = subject % {"org": organisation.legal_name}
        body = render_to_string(template, context)
    # Send only once the write is committed: a rolled-back invite must not e-mail anyone.
    transaction.on_commit(lambda: send_mail(subject, body, None, [to]))


@transaction.atomic
def membership_invite(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    full_name: str = "",
    invited_by: User,
    base_url: str,
    request=None,
) -> Membership | Invitation:
    """Add a person by e-mail (ARCHITECTURE invariant 1: organisation isolation).

    A person new to Constancia becomes a member at once and gets a one-time link to set a
    password. A person who already has an account (perhaps with another organisation) is only
    *invited*: no membership exists until they accept, and until then the inviting organisation
    sees the address it typed, never the account's name. Both are audited (invariant 6).
    """
    if role not in Role.values:
        raise ValidationError(_("Choose a role."))
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return _invitation_create(
            organisation=organisation,
            user=user,
            email=email,
            role=role,
            invited_by=invited_by,
            base_url=base_url,
            request=request,
        )
    user = User(email=email, full_name=full_name.strip())
    user.set_unusable_password()
    user.full_clean()
    user.save()
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    context = {
        "organisation": organisation,
        "invited_by": invited_by,
        "role": Role(role).label,  # lazy: rendered in the organisation's language
        "new_user": True,
        "link": set_password_url(user=user, base_url=base_url),
    }
    _send_on_commit(
        organisation=organisation,
        subject=_("You have been added to %(org)s on Constancia"),
        template="emails/member_invited.txt",
        context=context,
        to=email,
    )
    return membership


def _invitation_create(
    *,
    organisation: Organisation,
    user: User,
    email: str,
    role: str,
    invited_by: User,
    base_url: str,
    request,
) -> Invitation:
    if Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValidationError(
            _("%(email)s is already a member of this organisation.") % {"email": email}
        )
    already = _("%(email)s has been invited already; the invitation is waiting for an answer.")
    # An expired offer that nobody answered is closed first, so it no longer blocks a new one.
    Invitation.objects.filter(
        organisation=organisation,
        user=user,
        status=Invitation.Status.PENDING,
        expires_at__lte=timezone.now(),
    ).update(status=Invitation.Status.EXPIRED)
    if Invitation.objects.filter(
        organisation=organisation, user=user, status=Invitation.Status.PENDING
    ).exists():
        raise ValidationError(already % {"email": email})
    now = timezone.now()
    invitation = Invitation(
        organisation=organisation,
        user=user,
        email=email,
        role=role,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_VALID_DAYS),
    )
    invitation.full_clean()
    try:
        # Two DPOs inviting the same person at once: the partial unique index lets one through.
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise ValidationError(already % {"email": email}) from None
    audit_record(
        invitation,
        AuditEntry.Action.INVITED,
        user=invited_by,
        request=request,
        details=[{"field": "role", "old": "", "new": invitation.role}],
    )
    base = base_url.rstrip("/")
    context = {
        "organisation": organisation,
        "invited_by": invited_by,
        "role": Role(role).label,  # lazy: rendered in the organisation's language
        "expires_at": invitation.expires_at,
        "link": base + reverse("accounts:invitation", kwargs={"token": invitation.token}),
        # An account made by another organisation's invite may still have no password.
        "set_password_link": (
            "" if user.has_usable_password() else set_password_url(user=user, base_url=base_url)
        ),
    }
    _send_on_commit(
        organisation=organisation,
        subject=_("Invitation to join %(org)s on Constancia"),
        template="emails/membership_invitation.txt",
        context=context,
        to=user.email,
    )
    return invitation


def invitation_for_answer(*, token: str, user: User, lock: bool = False) -> Invitation:
    """The invitation behind ``token`` if ``user`` may still answer it; else a clear reason."""
    invitations = Invitation.objects.select_related("organisation", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token=token).first()
    # Someone else's link tells them nothing about it: not even that it exists.
    if invitation is None or invitation.user_id != user.pk:
        raise ValidationError(
            _(
                "This invitation link is not valid for your account. Log in with the address the"
                " invitation was sent to."
            ),
            code="not_yours",
        )
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(
            _("This invitation has been answered or withdrawn already."), code="answered"
        )
    if invitation.is_expired:
        raise ValidationError(
            _("This invitation expired. Ask the organisation's DPO to invite you again."),
            code="expired",
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User, request=None) -> Membership:
    """The invited person says yes: only now does the membership exist (invariant 1)."""
    invitation = invitation_for_answer(token=token, user=user, lock=True)
    if Membership.objects.filter(user=user, organisation=invitation.organisation).exists():
        raise ValidationError(
            _("You are a member of %(org)s already.") % {"org": invitation.organisation},
            code="member",
        )
    membership = Membership(user=user, organisation=invitation.organisation, role=invitation.role)
    membership.full_clean()
    membership.save()
    _answer(invitation, Invitation.Status.ACCEPTED, AuditEntry.Action.ACCEPTED, user, request)
    return membership


@transaction.atomic
def invitation_decline(*, token: str, user: User, request=None) -> Invitation:
    """The invited person says no; the organisation learns only that the offer was declined."""
    invitation = invitation_for_answer(token=token, user=user, lock=True)
    return _answer(
        invitation, Invitation.Status.DECLINED, AuditEntry.Action.DECLINED, user, request
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, revoked_by: User, request=None) -> Invitation:
    """The DPO withdraws an offer nobody answered yet (a wrong address, a wrong role)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(_("This invitation has been answered or withdrawn already."))
    return _answer(
        invitation, Invitation.Status.REVOKED, AuditEntry.Action.REVOKED, revoked_by, request
    )


def _answer(invitation: Invitation, status: str, action: str, user: User, request) -> Invitation:
    invitation.status = status
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        invitation,
        action,
        user=user,
        request=request,
        details=[{"field": "status", "old": Invitation.Status.PENDING, "new": status}],
    )
    return invitation


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
    instance: models.Model | None = None,
    action: AuditEntry.Action | None = None,
    *,
    user: User | None,
    request=None,
    organisation: Organisation | None = None,
    register: type[models.Model] | None = None,
    object_id: str = "",
    object_repr: str | None = None,
    details: list[dict] | None = None,
) -> AuditEntry:
    """Put on record an act that history tracking does not see (invariant 6): taking a copy of
    evidence, verifying it, publishing a text, answering an invitation.

    An act on one row names the row (``audit_record(link, AuditEntry.Action.REVOKED, ...)``): its
    model is the register, and its organisation, id and text (unless ``object_repr`` says it
    better) are the entry's. An act on no single row names ``organisation`` and ``register``.

    ``register`` is the model the act concerns: the Activity page names and filters registers by
    its ``_meta.model_name``, the same label history-tracked changes carry.
    """
    if instance is not None:
        register = type(instance)
        object_id = instance.pk
        # The id, not the row: reading instance.organisation could cost a query.
        organisation_id = instance.organisation_id
        object_repr = str(instance) if object_repr is None else object_repr
    else:
        organisation_id = organisation.pk
    return AuditEntry.objects.create(
        organisation_id=organisation_id,
        user=user,
        ip_address=client_ip(request),
        register=register._meta.model_name,
        # An unknown action is a programming error: refuse it rather than store a free string.
        action=AuditEntry.Action(action),
        object_id=str(object_id),
        object_repr=(object_repr or "")[:200],
        changes=details or [],
    )


@transaction.atomic
def version_publish(
    *,
    version: FrozenOnPublish,
    published_by: User | None,
    request=None,
    require=None,
) -> FrozenOnPublish:
    """Freeze a notice or policy version: its SHA-256 and publication time, set once (invariant 4).

    ``require(locked_version)`` raises ValidationError if this kind of text is not ready (a
    notice without purposes). Who published it, and from where, goes to the audit trail in the
    same transaction (invariant 6): a version is never published off the record.
    """
    model = type(version)
    # Lock the row: two DPOs pressing "publish" together must not both stamp a time.
    locked = model.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        raise ValidationError(locked.already_published_message)
    if require is not None:
        require(locked)
    locked.sha256 = locked.content_digest()
    locked.published_at = timezone.now()
    locked.save(update_fields=["sha256", "published_at"])
    audit_record(
        locked,
        AuditEntry.Action.PUBLISHED,
        user=published_by,
        request=request,
        details=[{"field": "sha256", "old": "", "new": locked.sha256}],
    )
    return locked
