import datetime
import functools
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .history import AuditedHistoricalModel
from .roles import Role, role_can

# Countries our users operate from. The code is the default region for phone numbers typed
# without an international prefix, so it must be an ISO 3166-1 alpha-2 code.
COUNTRIES = [
    ("ES", _("Spain")),
    ("PT", _("Portugal")),
    ("FR", _("France")),
    ("IT", _("Italy")),
    ("DE", _("Germany")),
    ("IE", _("Ireland")),
    ("NL", _("Netherlands")),
    ("BE", _("Belgium")),
    ("AT", _("Austria")),
    ("PL", _("Poland")),
    ("GB", _("United Kingdom")),
    ("MA", _("Morocco")),
    ("AD", _("Andorra")),
    ("MX", _("Mexico")),
    ("AR", _("Argentina")),
    ("CO", _("Colombia")),
    ("US", _("United States")),
]


# Spain's autonomous communities and cities (ISO 3166-2:ES), whose public holidays the deadline
# engine adds to the national ones (rights_requests.deadlines). Proper names: not translated.
SPANISH_REGIONS = [
    ("AN", "Andalucía"),
    ("AR", "Aragón"),
    ("AS", "Asturias"),
    ("IB", "Illes Balears"),
    ("CN", "Canarias"),
    ("CB", "Cantabria"),
    ("CL", "Castilla y León"),
    ("CM", "Castilla-La Mancha"),
    ("CT", "Catalunya"),
    ("EX", "Extremadura"),
    ("GA", "Galicia"),
    ("MD", "Madrid"),
    ("MC", "Murcia"),
    ("NC", "Navarra"),
    ("PV", "País Vasco / Euskadi"),
    ("RI", "La Rioja"),
    ("VC", "Comunitat Valenciana"),
    ("CE", "Ceuta"),
    ("ML", "Melilla"),
]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # E-mail addresses are compared case-insensitively: "Ana@x.es" and "ana@x.es" are one login.
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None gives an unusable password (invited, not yet set)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Logins are e-mail addresses; roles live on Membership."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_staff = models.BooleanField(
        _("admin site access"),
        default=False,
        help_text=_("Can log into the Django admin (for the service operator, not for DPOs)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Organisation(models.Model):
    """The controller: every domain row belongs to exactly one organisation."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    slug = models.SlugField(
        _("short name"),
        max_length=50,
        unique=True,
        help_text=_("Lower-case letters, digits and hyphens; used in addresses and commands."),
    )
    tax_id = models.CharField(
        _("tax id (NIF/CIF)"),
        max_length=20,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9-]{5,20}$",
                _("Enter a tax id of 5 to 20 letters, digits or hyphens, e.g. B12345678."),
            )
        ],
    )
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRIES, default="ES")
    contact_email = models.EmailField(_("contact e-mail"))
    dpo_name = models.CharField(_("DPO name"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True)
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    holiday_region = models.CharField(
        _("autonomous community"),
        max_length=2,
        choices=SPANISH_REGIONS,
        blank=True,
        help_text=_(
            "Its public holidays, with Spain's national ones, move request deadlines "
            "to the next working day."
        ),
    )
    blocking_years = models.PositiveSmallIntegerField(
        _("blocking period (years)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "How long erased data stays blocked for courts and authorities before it is "
            "purged (LOPDGDD Art. 32)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["legal_name"]

    def __str__(self):
        return self.legal_name


class MembershipQuerySet(models.QuerySet):
    def dpos(self):
        return self.filter(role=Role.DPO)


class Membership(models.Model):
    """A user's role in one organisation. One user may serve several organisations."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])
    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_membership_per_user_and_org"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_is_known"
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"

    def can(self, permission: str) -> bool:
        return role_can(self.role, permission)


INVITATION_VALID_DAYS = 14


def new_invitation_token() -> str:
    # 32 random bytes: the link in the e-mail must not be found by guessing.
    return secrets.token_urlsafe(32)


def default_invitation_expiry():
    return timezone.now() + datetime.timedelta(days=INVITATION_VALID_DAYS)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Not yet answered, not withdrawn and not expired: the ones a person can still accept."""
        return self.filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An offer of membership to a person who already has an account (ARCHITECTURE invariant 1).

    Until the person accepts, no Membership exists: the inviting organisation sees only the
    e-mail address it typed, never the account's name, and gets no access to anything of theirs.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        REVOKED = "revoked", _("withdrawn")
        EXPIRED = "expired", _("expired")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("invited person"),
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("invited"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=default_invitation_expiry)
    token = models.CharField(
        max_length=64, unique=True, default=new_invitation_token, editable=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open offer per person and organisation: a second would be a second way in.
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_invitation_per_user_and_org",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_is_known"
            ),
        ]

    def __str__(self):
        # The address only: the inviting organisation must not learn the account's name.
        return f"{self.email} → {self.organisation}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING and not self.is_expired


class FrozenOnPublish(models.Model):
    """A text people are shown and must read the same forever once published (invariant 4).

    Consent notices and the WhatsApp usage policy share it. Publishing sets ``sha256`` and
    ``published_at`` once (``accounts.services.version_publish``); after that the model refuses
    changes here in ``clean()``. The database refuses UPDATE and DELETE of a published notice
    (consents/db_guards.py) and TRUNCATE of both tables on PostgreSQL; a published usage policy
    has no row trigger yet, so its hash is what shows a change.
    """

    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    # What a person is told when trying to change or republish one; each kind names itself.
    frozen_message = _("A published version cannot be changed. Draft a new version instead.")
    already_published_message = _("This version is already published.")

    class Meta:
        abstract = True

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def content_digest(self) -> str:
        """SHA-256 of exactly what people read; each kind says what that is."""
        raise NotImplementedError

    def clean(self):
        if self.pk and self.is_published:
            raise ValidationError(self.frozen_message)


class AuditEntry(models.Model):
    """One line of the organisation's activity feed: who did what to which register, from where.

    Changes to history-tracked registers arrive here from django-simple-history (accounts/audit.py);
    acts that change nothing but must be on record (an evidence download) through
    ``accounts.services.audit_record``. Rows are only ever added.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        DELETED = "deleted", _("deleted")
        DOWNLOADED = "downloaded", _("downloaded")
        EXPORTED = "exported", _("exported")
        RECORDED = "recorded", _("recorded")
        VERIFIED = "verified", _("verified")
        PUBLISHED = "published", _("published")
        INVITED = "invited", _("invited")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        REVOKED = "revoked", _("revoked")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="audit_entries", null=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    register = models.CharField(_("register"), max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=list, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-at"], name="audit_org_at"),
            models.Index(fields=["organisation", "register", "-at"], name="audit_org_register_at"),
            models.Index(fields=["organisation", "user", "-at"], name="audit_org_user_at"),
        ]

    def __str__(self):
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.register} {self.object_repr}"
        )

    @property
    def register_label(self) -> str:
        return register_label(self.register)


# Registers whose model was renamed or moved: older audit entries keep the name they were
# written with (the trail is never rewritten), and are shown under the model's name today.
FORMER_REGISTERS = {"exportjob": "job"}


def register_label(model_name: str) -> str:
    """Human name of a register from its model name ("datasubject" -> "Data subjects")."""
    model = _models_by_name().get(FORMER_REGISTERS.get(model_name, model_name))
    return str(model._meta.verbose_name_plural).capitalize() if model else model_name


@functools.cache
def _models_by_name() -> dict:
    # Looked up for every row of the Activity page: build the map once, not a scan per row.
    # The label itself stays lazy, so it follows the language of each request.
    from django.apps import apps

    return {model._meta.model_name: model for model in apps.get_models()}
