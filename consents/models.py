"""The consent register: subjects, purposes, notices, proofs and the append-only ledger.

Invariants (ARCHITECTURE.md 2-5, 7):
- ConsentEvent rows are never updated or deleted; the database refuses it (consents/db_guards.py).
- Each event is chained per organisation: hash = sha256(prev_hash + canonical JSON of the event).
- The ledger holds no plaintext personal data: subject by id, an HMAC of their identifiers,
  SHA-256 of the notice text and of each proof. Names, numbers, quotes and files live in
  DataSubject and Proof, which can be rectified, blocked and purged without breaking the chain.
- A published NoticeVersion is frozen (model and database refuse edits).
- ConsentState (subject, purpose) points at the latest event, written in the same transaction.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from accounts.history import AuditedHistoricalModel
from accounts.models import FrozenOnPublish, Organisation

from . import phones, rules
from .choices import (  # noqa: F401 (the register's vocabulary, importable from here as before)
    HIDDEN_STATUSES,
    Action,
    Channel,
    GivenBy,
    LegalBasis,
    PurposeCategory,
    SubjectKind,
    SubjectStatus,
    SuppressionReason,
)
from .uploads import EXTENSIONS

GENESIS_HASH = "0" * 64


def of_visible_subjects(path: str = "subject") -> models.Q:
    """Rows about people in normal use, for any model that points at a person through ``path``:
    the one place that says blocked and purged people (LOPDGDD Art. 32) are left out of lists,
    rosters, registers and exports (DataSubjectQuerySet.visible is the same for people)."""
    return ~models.Q(**{f"{path}__status__in": HIDDEN_STATUSES})


class DataSubjectQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=DataSubject.Status.ACTIVE)

    def visible(self):
        """Everyone in normal use: blocked people (LOPDGDD Art. 32) and purged tombstones are
        left out of every list, search, export and capture; restricted people stay, flagged."""
        return self.exclude(status__in=HIDDEN_STATUSES)

    def hidden(self):
        return self.filter(status__in=HIDDEN_STATUSES)


class DataSubject(models.Model):
    Kind = SubjectKind
    Status = SubjectStatus

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="subjects"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    full_name = models.CharField(_("full name"), max_length=200)
    # NULL only on a purged tombstone (see the constraints): the number is personal data.
    phone = PhoneNumberField(_("phone"), null=True)
    email = models.EmailField(_("e-mail"), blank=True)
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    is_minor = models.BooleanField(_("under 14"), default=False)
    guardian_name = models.CharField(_("parent or guardian"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # What the person's rights did to the record (rights_requests.fulfilment). The requests are
    # referenced by their id as plain integers: the consent register does not depend on the
    # rights-request register, and the numbers outlive the requests' personal data.
    restricted_at = models.DateTimeField(_("restricted since"), null=True, blank=True)
    restriction_request_pk = models.PositiveIntegerField(
        _("restriction request (id)"), null=True, blank=True
    )
    blocked_at = models.DateTimeField(_("blocked since"), null=True, blank=True)
    purge_after = models.DateField(
        _("purge on"),
        null=True,
        blank=True,
        help_text=_("The blocking period ends: the personal data is purged (LOPDGDD Art. 32)."),
    )
    erasure_request_pk = models.PositiveIntegerField(
        _("erasure request (id)"), null=True, blank=True
    )
    purged_at = models.DateTimeField(_("purged"), null=True, blank=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])
    objects = DataSubjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("data subject")
        verbose_name_plural = _("data subjects")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "phone"],
                condition=models.Q(phone__isnull=False),
                name="one_subject_per_phone_per_org",
            ),
            # Only a purged tombstone is without a number; everyone else is found by theirs.
            models.CheckConstraint(
                condition=models.Q(phone__isnull=False) | models.Q(status="purged"),
                name="subject_phone_unless_purged",
            ),
            # A blocked person always knows when they will be purged (LOPDGDD Art. 32).
            models.CheckConstraint(
                condition=~models.Q(status="blocked")
                | models.Q(blocked_at__isnull=False, purge_after__isnull=False),
                name="blocked_subject_has_purge_date",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "full_name"], name="subject_org_name"),
            models.Index(fields=["status", "purge_after"], name="subject_purge_due"),
        ]

    def __str__(self):
        if self.status == SubjectStatus.PURGED:
            return _("Purged person #%(pk)s") % {"pk": self.pk}
        return self.full_name

    @property
    def is_hidden(self) -> bool:
        """Blocked or purged: out of normal use (LOPDGDD Art. 32)."""
        return self.status in HIDDEN_STATUSES

    @property
    def is_restricted(self) -> bool:
        return self.status == SubjectStatus.RESTRICTED

    def ensure_recordable(self) -> None:
        """Raise ValidationError if nothing may be recorded about this person (blocked)."""
        rules.ensure_recordable(self)

    def identifiers(self) -> dict:
        """What identifies the person now; its HMAC goes into each ledger event."""
        return {
            "full_name": self.full_name.strip(),
            "phone": phones.e164(self.phone),
            "email": self.email.strip().lower(),
            "guardian_name": self.guardian_name.strip(),
        }


class Purpose(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="purposes"
    )
    code = models.SlugField(
        _("code"), max_length=40, help_text=_("Short identifier used in imports and exports.")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=PurposeCategory.choices)
    legal_basis = models.CharField(
        _("legal basis"), max_length=24, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    requires_consent = models.BooleanField(_("needs consent"), default=True)
    audience = models.CharField(
        _("for whom"),
        max_length=10,
        choices=DataSubject.Kind.choices,
        blank=True,
        help_text=_(
            "Leave empty for everyone. A purpose for employees only (a staff group, say) is then"
            " never offered to a customer."
        ),
    )
    retention_months = models.PositiveIntegerField(
        _("retention (months)"),
        default=24,
        help_text=_("How long consent records for this purpose are kept after it ends."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AuditedHistoricalModel])

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="purpose_code_per_org"),
        ]

    def __str__(self):
        return self.name


class NoticeVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)

    def current_for(self, purpose, language):
        """The latest published version for this purpose in exactly this language."""
        return (
            self.published()
            .filter(purposes=purpose, language=language)
            .order_by("-published_at", "-pk")
            .first()
        )

    def to_show(self, purpose, language):
        """The version a person is shown for this purpose (consents.rules.choose_notice)."""
        return rules.choose_notice(
            self.published().filter(purposes=purpose),
            language=language,
            fallback_language=purpose.organisation.default_language,
        )


class NoticeVersion(FrozenOnPublish):
    """The privacy information shown to a person (GDPR Art. 13). Frozen once published.

    ``informs_international_transfers`` records, as a fact the DPO ticks, that the text tells the
    person their data leave the EEA (WhatsApp: to the United States) and on which safeguard
    (GDPR Art. 13(1)(f)); the checklist reads it instead of guessing from words of one language.
    Like every field it is frozen with the notice by the published-notice trigger, but it is not
    part of ``content_digest()``: the digests of notices already published are quoted by ledger
    events and must not change.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notices")
    purposes = models.ManyToManyField(Purpose, related_name="notices", verbose_name=_("purposes"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    version = models.CharField(
        _("version"), max_length=20, help_text=_("For example 2026-01 or v3.")
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("summary"), help_text=_("Two or three lines shown next to the checkbox at capture.")
    )
    text = models.TextField(
        _("full text"),
        help_text=_(
            "Controller, purposes, legal basis, recipients, international transfers (WhatsApp), "
            "retention and rights (GDPR Art. 13)."
        ),
    )
    informs_international_transfers = models.BooleanField(
        _("informs of international transfers"),
        default=False,
        help_text=_(
            "Tick if the text tells people their data are transferred outside the EEA (WhatsApp"
            " transfers to the United States) and on which safeguard."
        ),
    )
    transfer_safeguards = models.TextField(
        _("destination and safeguard"),
        blank=True,
        help_text=_(
            "For example: United States, EU-US Data Privacy Framework and standard contractual"
            " clauses."
        ),
    )

    frozen_message = _("A published notice cannot be changed. Draft a new version instead.")
    already_published_message = _("This notice version is already published.")

    objects = NoticeVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice version")
        verbose_name_plural = _("notice versions")
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "language", "title", "version"],
                name="notice_version_label_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True) | ~models.Q(sha256=""),
                name="published_notice_has_hash",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_language_display()} {self.version})"

    def content_digest(self) -> str:
        """SHA-256 of exactly what the person read: title, summary and full text."""
        canonical = "\n\n".join([self.title.strip(), self.summary.strip(), self.text.strip()])
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def clean(self):
        super().clean()
        if self.informs_international_transfers and not self.transfer_safeguards.strip():
            raise ValidationError(
                {
                    "transfer_safeguards": _(
                        "Say where the data go and on which safeguard (GDPR Art. 13(1)(f))."
                    )
                }
            )


def proof_upload_to(instance, filename):
    # Random name, no trace of the original: the path reveals nothing and cannot be guessed.
    return f"proofs/{instance.organisation_id}/{secrets.token_hex(16)}{instance.extension}"


def proof_rendition_upload_to(instance, filename):
    # Its own random name: knowing the original's path gives no way to the rendition's.
    return f"proofs/{instance.organisation_id}/{secrets.token_hex(16)}.jpg"


class Proof(models.Model):
    """What shows the act of consent: a quoted reply, a note, files. Personal data: purgeable."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="proofs")
    subject = models.ForeignKey(DataSubject, on_delete=models.PROTECT, related_name="proofs")
    quote = models.TextField(_("quoted reply"), blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("proof")
        verbose_name_plural = _("proofs")

    def __str__(self):
        return f"Proof {self.pk}"

    def digests(self) -> list[dict]:
        """SHA-256 of each piece of proof: what the ledger holds instead of the proof itself."""
        items = []
        if self.quote:
            items.append(
                {"kind": "quote", "sha256": hashlib.sha256(self.quote.encode()).hexdigest()}
            )
        items.extend(
            {"kind": "file", "sha256": f.sha256, "type": f.content_type}
            for f in self.files.order_by("pk")
        )
        return items


class ProofFile(models.Model):
    """A file as the person sent it (less GPS): the evidence, whose SHA-256 the ledger holds.

    ``rendition`` is a JPEG made from it for people and PDFs to look at, when browsers cannot
    show the original (HEIC). It is a copy for display, not evidence: the ledger does not hold
    its hash, and ``rendition_sha256`` only shows that the stored copy is the one made.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    proof = models.ForeignKey(Proof, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to=proof_upload_to, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    rendition = models.FileField(upload_to=proof_rendition_upload_to, max_length=200, blank=True)
    rendition_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("proof file")
        verbose_name_plural = _("proof files")

    def __str__(self):
        return self.original_name or self.file.name

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, "")

    @property
    def rendition_name(self) -> str:
        stem = (self.original_name or "proof").rsplit(".", 1)[0]
        return f"{stem}.jpg"


class LedgerHead(models.Model):
    """The organisation's chain head. Appends lock this row, so two writers never fork the chain."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="ledger_head", primary_key=True
    )
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self):
        return f"{self.organisation_id}#{self.sequence}"


class ConsentEvent(models.Model):
    """One act of consent, refusal or withdrawal for one purpose. Append-only, hash-chained."""

    # No index of their own on organisation and subject: (organisation, sequence) and
    # (subject, purpose, sequence) lead with them, and each index is one more page every append
    # changes (bench/README.md).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="consent_events", db_index=False
    )
    sequence = models.PositiveBigIntegerField(_("reference"))
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    captured_at = models.DateTimeField(_("when the person acted"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    by_subject = models.BooleanField(_("recorded by the person themself"), default=False)
    given_by = models.CharField(
        _("given by"), max_length=10, choices=GivenBy.choices, default=GivenBy.SUBJECT
    )
    notice_version = models.ForeignKey(
        NoticeVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    notice_sha256 = models.CharField(max_length=64, blank=True)
    proof = models.ForeignKey(
        Proof, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    proof_digests = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)
    confirms = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmations",
        help_text=_("The staff-logged event this one confirms (double opt-in)."),
    )
    subject_hmac = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # The exact canonical JSON that was hashed (chain.canonical_json(canonical())), written with
    # the event, so verification is SHA-256 over stored text plus a bulk check that the columns
    # still say the same (services.ledger_verify_chain). NULL only for an event written before
    # the column existed and not backfilled: verification then rebuilds it from the columns.
    canonical_text = models.TextField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["organisation", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "sequence"], name="ledger_sequence_unique_per_org"
            ),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key", "purpose"],
                condition=~models.Q(idempotency_key=""),
                name="ledger_idempotent_capture",
            ),
            models.CheckConstraint(
                condition=models.Q(action__in=Action.values), name="ledger_action_known"
            ),
        ]
        indexes = [
            models.Index(fields=["subject", "purpose", "sequence"], name="event_subject_purpose"),
            models.Index(fields=["organisation", "recorded_at"], name="event_org_recorded"),
            models.Index(fields=["organisation", "idempotency_key"], name="event_org_idem"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.purpose_id}"

    def canonical(self) -> dict:
        """The fields the hash covers. Changing any of them breaks the chain at this sequence."""

        def instant(value):
            return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")

        return {
            "organisation": self.organisation_id,
            "sequence": self.sequence,
            "subject": self.subject_id,
            "subject_hmac": self.subject_hmac,
            "purpose": self.purpose_id,
            "action": self.action,
            "channel": self.channel,
            "captured_at": instant(self.captured_at),
            "recorded_at": instant(self.recorded_at),
            "recorded_by": self.recorded_by_id,
            "by_subject": self.by_subject,
            "given_by": self.given_by,
            "notice_version": self.notice_version_id,
            "notice_sha256": self.notice_sha256,
            "proof": self.proof_id,
            "proof_digests": self.proof_digests,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "confirms": self.confirms_id,
        }


class ConsentStateQuerySet(models.QuerySet):
    def granted(self):
        return self.filter(action=Action.GRANTED)

    def granted_for(self, purpose):
        return self.granted().filter(purpose=purpose)


class ConsentState(models.Model):
    """Latest event per (subject, purpose): derived from the ledger, rebuilt by a command."""

    # Indexed only as the register and the upsert read it (below): organisation and subject lead
    # those indexes, and the event is never looked up from here. Every append rewrites a state
    # row, so every index is one more page it changes (bench/README.md).
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, related_name="states", db_index=False
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="states")
    event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    captured_at = models.DateTimeField()

    objects = ConsentStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        constraints = [
            models.UniqueConstraint(fields=["subject", "purpose"], name="one_state_per_purpose"),
        ]
        indexes = [
            # The register's default order (newest first) and its purpose + state filter, so a
            # page of 50 is read from the index instead of sorting every state (bench/README.md).
            models.Index(fields=["organisation", "-captured_at", "-id"], name="state_org_recent"),
            models.Index(
                fields=["organisation", "purpose", "action", "-captured_at", "-id"],
                name="state_org_purpose",
            ),
        ]

    def __str__(self):
        return f"{self.subject_id}/{self.purpose_id}: {self.action}"


class IntegrityCheck(models.Model):
    """The result of one recomputation of an organisation's chain."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="integrity_checks"
    )
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    events_checked = models.PositiveBigIntegerField(default=0)
    head_sequence = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    broken_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    triggered_by = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"

    def __str__(self):
        status = "OK" if self.ok else "BROKEN"
        return f"{self.organisation_id} {self.checked_at:%Y-%m-%d %H:%M} {status}"


def new_link_token() -> str:
    # 24 random bytes (192 bits), URL-safe: a link cannot be guessed or enumerated.
    return secrets.token_urlsafe(24)


def default_link_expiry():
    return timezone.now() + datetime.timedelta(days=settings.CONSENT_LINK_DAYS)


class ConsentLinkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ConsentLink(models.Model):
    """A link a person opens (no login) to give, confirm or withdraw their own consent.

    Personal: one person's link, sent to them (WhatsApp button or QR); it shows their choices and
    lets them withdraw in one click (GDPR Art. 7(3)). Generic: a poster's link, for anyone; the
    person types name and number, and the page never shows anything about a number typed.
    """

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        GENERIC = "generic", _("Generic (poster)")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="consent_links"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True, default=new_link_token, editable=False)
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, null=True, blank=True, related_name="consent_links"
    )
    purposes = models.ManyToManyField(Purpose, related_name="+", verbose_name=_("purposes"))
    label = models.CharField(_("label"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=default_link_expiry)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ConsentLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent link")
        verbose_name_plural = _("consent links")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="personal") & models.Q(subject__isnull=False))
                | (models.Q(kind="generic") & models.Q(subject__isnull=True)),
                name="consent_link_kind_matches_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "kind", "-created_at"], name="link_org_kind"),
            models.Index(fields=["subject", "-created_at"], name="link_subject"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} link {self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired


class UnconfirmedAnswer(models.Model):
    """A grant typed on a link that is not the person's own (a poster, a group invite) for a
    purpose they had refused or withdrawn (consents.rules.ensure_attributable).

    It is not a ledger event: nobody can tell that the person typed it. The DPO sees it, sends
    the person their personal link, and a grant through that link confirms it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the person's confirmation")
        CONFIRMED = "confirmed", _("confirmed by the person")
        DISMISSED = "dismissed", _("dismissed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="unconfirmed_answers"
    )
    subject = models.ForeignKey(
        DataSubject, on_delete=models.PROTECT, related_name="unconfirmed_answers"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(
        NoticeVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    source = models.CharField(_("through"), max_length=200, blank=True)
    link = models.ForeignKey(
        "ConsentLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("unconfirmed answer")
        verbose_name_plural = _("unconfirmed answers")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "purpose"],
                condition=models.Q(status="pending"),
                name="one_pending_answer_per_purpose",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "-submitted_at"], name="unconfirmed_org")
        ]

    def __str__(self):
        return f"{self.subject} / {self.purpose}: {self.get_status_display()}"


# --- signed checkpoints (consents/checkpoints.py, evidence/checkpoints.py) ------------------


class LedgerCheckpoint(models.Model):
    """The organisation's signed statement that its chain stood at #sequence with head_hash.

    In the spirit of Certificate Transparency's signed tree heads (RFC 6962 3.5): once a copy
    has left the database (a DPO's archive, CHECKPOINT_EXPORT_DIR, an e-mail, a pack), nobody
    can delete the newest events and rewind LedgerHead without verification noticing, because
    the chain no longer reaches, or no longer holds, what was signed. ``statement`` keeps the
    exact bytes signed; ``signature`` is a detached CMS (PKCS#7) signature over them, DER.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="ledger_checkpoints"
    )
    sequence = models.PositiveBigIntegerField(_("reference"))
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField(_("signed"))
    statement = models.TextField()
    signature = models.BinaryField()
    timestamp_token = models.BinaryField(blank=True, default=b"")
    certificate_pem = models.TextField()
    certificate_fingerprint = models.CharField(max_length=64)
    triggered_by = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-signed_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "-signed_at"], name="checkpoint_org_signed"),
        ]

    def __str__(self):
        return f"{self.organisation_id}#{self.sequence} {self.signed_at:%Y-%m-%d %H:%M}"

    @property
    def file_stem(self) -> str:
        at = self.signed_at.astimezone(datetime.UTC)
        return f"checkpoint-{self.sequence}-{at:%Y%m%dT%H%M%SZ}"


# --- the suppression list (GDPR Art. 21(3), LOPDGDD Art. 23) --------------------------------


class SuppressedNumber(models.Model):
    """A number that must never again be asked for, or sent, direct marketing.

    It holds no number: ``phone_hmac`` is a keyed hash of the E.164 number and the organisation
    (consents.chain.phone_hmac), so the list survives the purge of the person who objected
    without keeping what the purge removed, and still recognises the number if it comes back
    on a poster, an import or a capture. Checked by consents.selectors.is_suppressed and the
    rule consents.rules.ensure_not_suppressed.
    """

    Reason = SuppressionReason

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="suppressed_numbers"
    )
    phone_hmac = models.CharField(max_length=64)
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    request_pk = models.PositiveIntegerField(_("rights request (id)"), null=True, blank=True)
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("suppressed number")
        verbose_name_plural = _("suppressed numbers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "phone_hmac"], name="one_suppression_per_number"
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id}:{self.phone_hmac[:12]}… ({self.reason})"
