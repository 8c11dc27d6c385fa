"""WhatsApp groups, the staff accounts that run them and the internal WhatsApp usage policy.

DOMAIN.md, "Groups": a group exposes every member's name, number and photo to the others, so
people join through a consent-gated invite link instead of being added by number. Registers that
change over time keep their history (ARCHITECTURE invariant 6); a published usage policy is
frozen like a consent notice (invariant 4).
"""

import hashlib
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from accounts.history import AuditedHistoricalModel
from accounts.models import FrozenOnPublish, Membership, Organisation
from consents.models import ConsentEvent, DataSubject, Purpose, PurposeCategory

# WhatsApp invite links look like https://chat.whatsapp.com/<code>, the code being about 20-24
# letters and digits. Anything else would send a person who just consented somewhere unexpected.
INVITE_URL = re.compile(r"^https://chat\.whatsapp\.com/(invite/)?[A-Za-z0-9]{16,40}/?$")


def new_invite_token() -> str:
    # 32 random bytes: the public invite page must not be found by guessing.
    return secrets.token_urlsafe(32)


def validate_invite_url(value: str) -> None:
    if not INVITE_URL.match(value or ""):
        raise ValidationError(
            _(
                "Paste the group's WhatsApp invite link, e.g."
                " https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv."
            ),
            code="invalid_invite_url",
        )


class StaffAccount(models.Model):
    """A WhatsApp account the organisation's people use with customers (DOMAIN.md question 6)."""

    class NumberType(models.TextChoices):
        BUSINESS = "business", _("Business number")
        PERSONAL = "personal", _("Personal number")

    class App(models.TextChoices):
        WHATSAPP_BUSINESS = "whatsapp_business", _("WhatsApp Business")
        CONSUMER = "consumer", _("WhatsApp (consumer app)")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="staff_accounts"
    )
    phone = PhoneNumberField(_("phone"))
    label = models.CharField(_("label"), max_length=120, blank=True)
    employee = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="whatsapp_accounts",
        verbose_name=_("used by"),
    )
    number_type = models.CharField(_("number type"), max_length=10, choices=NumberType.choices)
    app = models.CharField(_("app"), max_length=20, choices=App.choices)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("staff WhatsApp account")
        verbose_name_plural = _("staff WhatsApp accounts")
        ordering = ["label", "phone"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "phone"], name="one_staff_account_per_phone_per_org"
            ),
        ]

    def __str__(self):
        number = self.phone.as_international if self.phone else ""
        return f"{self.label} ({number})" if self.label else number

    @property
    def is_personal(self) -> bool:
        return self.number_type == self.NumberType.PERSONAL


class WhatsAppGroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=WhatsAppGroup.Status.ACTIVE)


class WhatsAppGroup(models.Model):
    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        EMPLOYEES = "employees", _("Employees")
        MIXED = "mixed", _("Customers and employees")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="whatsapp_groups"
    )
    name = models.CharField(_("name"), max_length=120)
    purpose = models.ForeignKey(
        Purpose,
        on_delete=models.PROTECT,
        related_name="whatsapp_groups",
        verbose_name=_("group-membership purpose"),
        help_text=_("The purpose people consent to when they join (category: group membership)."),
    )
    kind = models.CharField(_("members are"), max_length=10, choices=Kind.choices)
    invite_url = models.URLField(
        _("WhatsApp invite link"),
        max_length=200,
        validators=[validate_invite_url],
        help_text=_("Shown to nobody: people reach it only after consenting."),
    )
    admins = models.ManyToManyField(
        StaffAccount, blank=True, related_name="administered_groups", verbose_name=_("admins")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    invite_token = models.CharField(
        max_length=64, unique=True, default=new_invite_token, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    history = HistoricalRecords(bases=[AuditedHistoricalModel], excluded_fields=["invite_token"])
    objects = WhatsAppGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("WhatsApp group")
        verbose_name_plural = _("WhatsApp groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="group_name_per_org"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def clean(self):
        if self.purpose_id is not None:
            if self.purpose.organisation_id != self.organisation_id:
                raise ValidationError({"purpose": _("Unknown purpose.")})
            if self.purpose.category != PurposeCategory.GROUP_MEMBERSHIP:
                raise ValidationError(
                    {
                        "purpose": _(
                            "Choose a purpose of the category “WhatsApp group membership”: people"
                            " consent to joining this group specifically."
                        )
                    }
                )


class GroupMembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(left_at__isnull=True)


class GroupMembership(models.Model):
    """One stay of a person in a group: from joining until leaving (kept after they leave)."""

    class JoinedVia(models.TextChoices):
        INVITE_LINK_WITH_CONSENT = "invite_link_with_consent", _("Invite link, with consent")
        ADDED_BY_ADMIN = "added_by_admin", _("Added by an admin")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="group_memberships"
    )
    group = models.ForeignKey(WhatsAppGroup, on_delete=models.PROTECT, related_name="memberships")
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, related_name="group_memberships"
    )
    joined_via = models.CharField(_("how they joined"), max_length=30, choices=JoinedVia.choices)
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    consent_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_memberships",
        verbose_name=_("consent event"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )

    history = HistoricalRecords(bases=[AuditedHistoricalModel])
    objects = GroupMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["-joined_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "subject"],
                condition=models.Q(left_at__isnull=True),
                name="one_current_membership_per_group",
            ),
        ]

    def __str__(self):
        return f"{self.subject} @ {self.group}"


class RosterCheck(models.Model):
    """The group's participant list as pasted by staff, reconciled against the register."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="roster_checks"
    )
    group = models.ForeignKey(WhatsAppGroup, on_delete=models.PROTECT, related_name="roster_checks")
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    pasted_count = models.PositiveIntegerField(_("numbers pasted"), default=0)
    results = models.JSONField(default=dict)
    recorded_as_roster = models.BooleanField(_("recorded as the current roster"), default=False)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("roster check")
        verbose_name_plural = _("roster checks")
        ordering = ["-checked_at", "-pk"]

    def __str__(self):
        return f"{self.group} {self.checked_at:%Y-%m-%d %H:%M}"


class UsagePolicyVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)

    def current_for(self, organisation):
        return (
            self.published()
            .filter(organisation=organisation)
            .order_by("-published_at", "-pk")
            .first()
        )


class UsagePolicyVersion(FrozenOnPublish):
    """The internal WhatsApp usage policy (DOMAIN.md questions 5, 7, 8). Frozen once published."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="usage_policies"
    )
    version = models.CharField(_("version"), max_length=20, help_text=_("For example 2026-01."))
    text = models.TextField(
        _("text"),
        help_text=_(
            "Business numbers only, no personal data of customers in groups, invite links instead"
            " of adding people, what to do on a lost phone."
        ),
    )
    frozen_message = _("A published policy cannot be changed. Draft a new version instead.")
    already_published_message = _("This policy version is already published.")

    objects = UsagePolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("WhatsApp usage policy version")
        verbose_name_plural = _("WhatsApp usage policy versions")
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"], name="usage_policy_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True) | ~models.Q(sha256=""),
                name="published_usage_policy_has_hash",
            ),
        ]

    def __str__(self):
        return self.version

    def content_digest(self) -> str:
        return hashlib.sha256(self.text.strip().encode("utf-8")).hexdigest()


class PolicyAcknowledgement(models.Model):
    """A member read the policy version and said so (DOMAIN.md question 7)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(
        UsagePolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policy_acknowledgements"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("policy acknowledgement")
        verbose_name_plural = _("policy acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["policy", "user"], name="one_acknowledgement_per_user"),
        ]

    def __str__(self):
        return f"{self.user} {self.policy}"
