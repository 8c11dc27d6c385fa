"""The API's shapes: what each call accepts (checked here, field by field, with the same parsers
as the pages) and what it answers. The rules themselves stay in the services and
consents.rules: a serializer only turns JSON or a multipart form into their arguments."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consents import selectors
from consents.choices import Action, Channel
from consents.models import ConsentEvent, ConsentState, DataSubject, NoticeVersion, Purpose
from consents.phones import parse_phone
from consents.uploads import inspect_upload
from groups.models import GroupMembership, WhatsAppGroup
from rights_requests.choices import VERIFIED_CHANNELS, RequestChannel, Right
from rights_requests.models import RightsRequest

MAX_BATCH = 1000
# How an integration may say the person answered: not an import, nor an invite link (only the
# person uses one), exactly as on the capture page (consents.forms.STAFF_CHANNELS).
API_CHANNELS = [c for c in Channel.choices if c[0] not in (Channel.IMPORT, Channel.INVITE_LINK)]
REQUEST_CHANNELS = [c for c in RequestChannel.choices if c[0] not in VERIFIED_CHANNELS]


class PhoneField(serializers.CharField):
    """A phone number in any format ('612 34 56 78', '+34…', '0034…'), read in the
    organisation's country; answers in E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return parse_phone(text, self.context["organisation"].country)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def to_representation(self, value):
        return value.as_e164 if value else None


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 50})
class PurposeCodeField(serializers.Field):
    """A purpose of the organisation, by its code. (A plain Field: a CharField's length and
    slug validators would run on the Purpose found, not on the code.)"""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(_("Give a purpose's code."))
        if "\x00" in data:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        code = data.strip()
        purpose = selectors.purpose_by_code(self.context["organisation"], code[:50])
        if purpose is None:
            raise serializers.ValidationError(_("No purpose has the code “%s”.") % code[:50])
        return purpose

    def to_representation(self, value):
        return value.code


# --- answers --------------------------------------------------------------------------------


class NoticeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoticeVersion
        fields = ["id", "version", "language", "sha256"]


class EventSerializer(serializers.ModelSerializer):
    subject = serializers.IntegerField(source="subject_id")
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)
    notice_version = NoticeRefSerializer(allow_null=True)
    proof_digests = serializers.ListField(child=serializers.DictField())

    class Meta:
        model = ConsentEvent
        fields = [
            "sequence",
            "subject",
            "purpose",
            "action",
            "channel",
            "captured_at",
            "recorded_at",
            "by_subject",
            "given_by",
            "notice_version",
            "proof_digests",
            "prev_hash",
            "hash",
        ]


class EventRefSerializer(serializers.ModelSerializer):
    notice_version = serializers.CharField(source="notice_version.version", allow_null=True)

    class Meta:
        model = ConsentEvent
        fields = ["sequence", "action", "captured_at", "notice_version"]


class ConsentCheckAnswer(serializers.Serializer):
    phone = serializers.CharField(help_text="The number as it was sent.")
    e164 = serializers.CharField(allow_null=True, help_text="The number read, in E.164.")
    purpose = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=[
            "consented",
            "no_consent_needed",
            "no_consent",
            "blocked",
            "purged",
            "restricted",
            "suppressed",
            "invalid_phone",
        ],
        help_text="Why, as a stable code.",
    )
    message = serializers.CharField(allow_blank=True, help_text="Why, said to a person.")
    event = EventRefSerializer(allow_null=True, help_text="The latest event for the purpose.")
    checked_at = serializers.DateTimeField()


class ConsentCheckBatchAnswer(serializers.Serializer):
    purpose = serializers.CharField()
    checked_at = serializers.DateTimeField()
    allowed = serializers.IntegerField(help_text="How many of the numbers may be messaged.")
    results = ConsentCheckAnswer(many=True)


class StateSerializer(serializers.ModelSerializer):
    subject = serializers.IntegerField(source="subject_id")
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)
    sequence = serializers.IntegerField(source="event.sequence")

    class Meta:
        model = ConsentState
        fields = ["subject", "purpose", "action", "captured_at", "sequence"]


class SubjectSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()

    class Meta:
        model = DataSubject
        fields = [
            "id",
            "full_name",
            "phone",
            "email",
            "kind",
            "preferred_language",
            "is_minor",
            "external_ref",
            "status",
            "created_at",
        ]

    def get_phone(self, subject) -> str | None:
        return subject.phone.as_e164 if subject.phone else None


class SubjectDetailSerializer(SubjectSerializer):
    consents = StateSerializer(many=True, source="states")

    class Meta(SubjectSerializer.Meta):
        fields = [*SubjectSerializer.Meta.fields, "consents"]


class PurposeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Purpose
        fields = [
            "id",
            "code",
            "name",
            "description",
            "category",
            "legal_basis",
            "audience",
            "requires_consent",
            "retention_months",
            "active",
        ]


class NoticeSerializer(serializers.ModelSerializer):
    purposes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = NoticeVersion
        fields = [
            "id",
            "version",
            "language",
            "title",
            "summary",
            "text",
            "purposes",
            "published_at",
            "sha256",
        ]


class GroupSerializer(serializers.ModelSerializer):
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = WhatsAppGroup
        fields = ["id", "name", "purpose", "kind", "status", "created_at", "archived_at"]


class GroupMemberSerializer(serializers.ModelSerializer):
    subject = serializers.IntegerField(source="subject_id")
    phone = serializers.SerializerMethodField()
    consent_sequence = serializers.IntegerField(source="consent_event.sequence", allow_null=True)

    class Meta:
        model = GroupMembership
        fields = ["subject", "phone", "joined_via", "joined_at", "left_at", "consent_sequence"]

    def get_phone(self, membership) -> str | None:
        phone = membership.subject.phone
        return phone.as_e164 if phone else None


class RightsRequestSerializer(serializers.ModelSerializer):
    subject = serializers.IntegerField(source="subject_id", allow_null=True)

    class Meta:
        model = RightsRequest
        fields = [
            "id",
            "subject",
            "right",
            "channel",
            "received_on",
            "status",
            "due_on",
            "current_due_on",
            "extension_months",
            "identity_verified_at",
            "carried_out_at",
            "closed_on",
            "logged_at",
        ]


# --- questions ------------------------------------------------------------------------------


class ConsentCheckQuery(serializers.Serializer):
    phone = serializers.CharField(max_length=40, help_text="In any format.")
    purpose = PurposeCodeField(help_text="The purpose's code.")


class ConsentCheckBatch(serializers.Serializer):
    purpose = PurposeCodeField(help_text="The purpose's code.")
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40, allow_blank=True),
        min_length=1,
        max_length=MAX_BATCH,
        help_text=f"Up to {MAX_BATCH} numbers, in any format.",
    )


class ConsentRecord(serializers.Serializer):
    """One act of one person, as the capture page takes it (consents.forms.CaptureForm)."""

    phone = PhoneField(help_text="In any format; read in the organisation's country.")
    full_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    kind = serializers.ChoiceField(
        choices=DataSubject.Kind.choices, default=DataSubject.Kind.CUSTOMER
    )
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text="Language of the notice shown (default: the organisation's).",
    )
    purposes = serializers.ListField(child=PurposeCodeField(), min_length=1, max_length=50)
    action = serializers.ChoiceField(
        choices=[Action.GRANTED, Action.REFUSED, Action.WITHDRAWN], default=Action.GRANTED
    )
    channel = serializers.ChoiceField(choices=API_CHANNELS, help_text="How the person answered.")
    captured_at = serializers.DateTimeField(
        required=False, help_text="When the person answered (default: now)."
    )
    quote = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=10
    )
    is_minor = serializers.BooleanField(required=False, default=False)
    guardian_name = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )

    def validate_files(self, files):
        inspected, errors = [], []
        for upload in files:
            try:
                inspected.append(inspect_upload(upload))
            except DjangoValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise serializers.ValidationError(errors)
        return inspected

    def validate_purposes(self, purposes):
        return list(dict.fromkeys(purposes))


class RecordAnswer(serializers.Serializer):
    subject = serializers.IntegerField()
    subject_created = serializers.BooleanField()
    replayed = serializers.BooleanField(
        help_text="True when the Idempotency-Key was seen before: nothing new was recorded."
    )
    events = EventSerializer(many=True)


class RightsRequestCreate(serializers.Serializer):
    right = serializers.ChoiceField(choices=Right.choices)
    channel = serializers.ChoiceField(choices=REQUEST_CHANNELS)
    received_on = serializers.DateField(help_text="The day the request arrived (starts the clock).")
    phone = PhoneField(required=False, allow_null=True, default=None)
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    details = serializers.CharField(required=False, default="", allow_blank=True, max_length=10000)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, default="", allow_blank=True
    )


class JobStart(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["certificate", "pack", "ropa"])
    subject = serializers.IntegerField(required=False, help_text="certificate: the person's id.")
    purpose = PurposeCodeField(required=False, allow_null=True, default=None)
    purposes = serializers.ListField(
        child=PurposeCodeField(), required=False, default=list, help_text="pack: purpose codes."
    )
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    subjects = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=10000
    )
    requests = serializers.BooleanField(required=False, default=True)
    ropa = serializers.BooleanField(required=False, default=True)
    format = serializers.ChoiceField(choices=["pdf", "csv", "xlsx"], required=False, default="pdf")
    as_of = serializers.DateField(required=False, allow_null=True, default=None)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)

    def validate(self, data):
        if data["kind"] == "certificate" and not data.get("subject"):
            raise serializers.ValidationError({"subject": [_("Give the person's id.")]})
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The end is before the start.")]})
        return data


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    status = serializers.CharField()
    percent = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    result_name = serializers.CharField(allow_blank=True)
    result_sha256 = serializers.CharField(allow_blank=True)
    result_size = serializers.IntegerField(allow_null=True)
    download = serializers.SerializerMethodField()

    def get_download(self, job) -> str | None:
        if job.status != job.Status.DONE or not job.result or job.result_expired:
            return None
        request = self.context.get("request")
        path = f"/api/v1/jobs/{job.pk}/download/"
        return request.build_absolute_uri(path) if request else path
