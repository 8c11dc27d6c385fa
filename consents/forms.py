import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.request_info import client_ip, user_agent

from . import rules
from .acts import ConsentAct, Decision, PersonDetails, ProofInput, withdrawal
from .models import Action, Channel, DataSubject, NoticeVersion, Purpose
from .phones import parse_phone
from .uploads import inspect_upload


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


# How staff can say a person answered: not an import, nor an invite link (only the person uses one).
STAFF_CHANNELS = [c for c in Channel.choices if c[0] not in (Channel.IMPORT, Channel.INVITE_LINK)]


class CaptureForm(forms.Form):
    """Log consent at first contact. Shape only: the rules live in consents.services."""

    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        widget=forms.TextInput(
            # Numbers read left to right in Arabic pages too.
            attrs={"inputmode": "tel", "autocomplete": "off", "autofocus": True, "dir": "ltr"}
        ),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Who is this?"), choices=DataSubject.Kind.choices, initial=DataSubject.Kind.CUSTOMER
    )
    language = forms.ChoiceField(label=_("Language of the notice"), choices=settings.LANGUAGES)
    purposes = forms.ModelMultipleChoiceField(
        label=_("Purposes"),
        queryset=Purpose.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one purpose.")},
    )
    decision = forms.ChoiceField(
        label=_("The person"),
        choices=[
            (Action.GRANTED, _("agreed to the ticked purposes")),
            (Action.REFUSED, _("refused the ticked purposes")),
        ],
        initial=Action.GRANTED,
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(label=_("How"), choices=STAFF_CHANNELS, initial=Channel.WHATSAPP)
    captured_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    quote = forms.CharField(
        label=_("Their reply, quoted"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("e.g. “Sí, acepto”")}),
    )
    files = MultipleFileField(
        label=_("Photo or document (JPEG, PNG, PDF)"),
        required=False,
        widget=MultipleFileInput(
            attrs={"accept": "image/*,application/pdf", "capture": "environment"}
        ),
    )
    is_minor = forms.BooleanField(label=_("The person is under 14"), required=False)
    guardian_name = forms.CharField(
        label=_("Parent or guardian who consents"), max_length=200, required=False
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["purposes"].queryset = Purpose.objects.filter(
            organisation=organisation, active=True
        ).order_by("name")
        self.fields["language"].initial = organisation.default_language
        self.fields["captured_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["idempotency_key"].initial = uuid.uuid4().hex
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_phone(self):
        return parse_phone(self.cleaned_data["phone"], self.organisation.country)

    def clean_files(self):
        return [inspect_upload(f) for f in self.cleaned_data.get("files") or []]

    def notices_for(self, language):
        """The notice version shown for each purpose (NoticeVersion.objects.to_show)."""
        return {
            purpose.pk: NoticeVersion.objects.to_show(purpose, language)
            for purpose in self.fields["purposes"].queryset
        }

    def person(self) -> PersonDetails:
        data = self.cleaned_data
        return PersonDetails(
            phone=data["phone"],
            full_name=data["full_name"],
            kind=data["kind"],
            email=data["email"],
            preferred_language=data["language"],
            is_minor=data["is_minor"],
            guardian_name=data["guardian_name"],
        )

    def proof(self) -> ProofInput:
        data = self.cleaned_data
        return ProofInput(quote=data["quote"], note=data["note"], files=data["files"])

    def act(self, request) -> ConsentAct:
        """The act as staff logged it, from where they logged it (GDPR Art. 7(1))."""
        data = self.cleaned_data
        notices = self.notices_for(data["language"])
        return ConsentAct(
            decisions=[
                Decision(purpose=p, action=data["decision"], notice=notices.get(p.pk))
                for p in data["purposes"]
            ],
            channel=data["channel"],
            captured_at=data["captured_at"],
            recorded_by=request.user,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
            idempotency_key=data["idempotency_key"],
        )

    def clean(self):
        data = super().clean()
        try:
            rules.ensure_guardian(
                is_minor=data.get("is_minor", False), guardian_name=data.get("guardian_name", "")
            )
        except ValidationError as error:
            self.add_error("guardian_name", error)
        return data


class WithdrawForm(forms.Form):
    purpose = forms.IntegerField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("How did the person ask?"),
        choices=STAFF_CHANNELS,
        initial=Channel.WHATSAPP,
    )

    def act(self, request, *, subject, purpose) -> ConsentAct:
        """Staff log the person's withdrawal, from where they logged it (GDPR Art. 7(3))."""
        return ConsentAct(
            decisions=withdrawal(purpose),
            channel=self.cleaned_data["channel"],
            subject=subject,
            recorded_by=request.user,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )


class OrganisationScopedForm(forms.ModelForm):
    """A ModelForm whose instance's organisation is set by the view, not by a form field.

    ModelForm skips uniqueness and constraint checks that involve fields it does not show, so
    (organisation, code)-style constraints are checked here in full: a duplicate gets a form
    error instead of an IntegrityError.
    """

    def validate_unique(self):
        try:
            self.instance.validate_unique()
            self.instance.validate_constraints()
        except ValidationError as error:
            self._update_errors(error)


class PurposeForm(OrganisationScopedForm):
    class Meta:
        model = Purpose
        fields = [
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
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.instance.organisation = organisation
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("code", css_class="col-md-4"), Column("name", css_class="col-md-8")),
            "description",
            Row(
                Column("category", css_class="col-md-6"),
                Column("legal_basis", css_class="col-md-6"),
            ),
            Row(
                Column("retention_months", css_class="col-md-6"),
                Column("requires_consent", "active", css_class="col-md-6"),
            ),
            Submit("save", _("Save")),
        )


class NoticeForm(OrganisationScopedForm):
    class Meta:
        model = NoticeVersion
        fields = [
            "purposes",
            "language",
            "version",
            "title",
            "summary",
            "text",
            "informs_international_transfers",
            "transfer_safeguards",
        ]
        widgets = {
            "purposes": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "text": forms.Textarea(attrs={"rows": 14}),
            "transfer_safeguards": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organisation = organisation
        self.fields["purposes"].queryset = Purpose.objects.filter(organisation=organisation)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("language", css_class="col-md-4"), Column("version", css_class="col-md-8")),
            "title",
            "purposes",
            "summary",
            "text",
            "informs_international_transfers",
            "transfer_safeguards",
            Submit("save", _("Save draft")),
        )


class PublicConsentForm(forms.Form):
    """What a person ticks on their consent link. The rules live in consents.services.

    Rendered by templates/consents/public/includes/consent_form.html, not by crispy: the same
    markup serves the groups invite page.
    """

    purposes = forms.TypedMultipleChoiceField(
        label=_("Purposes"),
        coerce=int,
        required=True,
        error_messages={"required": _("Tick at least one purpose.")},
    )
    full_name = forms.CharField(label=_("Your full name"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Your WhatsApp number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}),
    )

    def __init__(self, *args, link, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = {c.purpose.pk: c for c in choices}
        self.fields["purposes"].choices = [
            (c.purpose.pk, c.purpose.name) for c in choices if c.can_tick
        ]
        self.asks_identity = link.subject_id is None
        if self.asks_identity:
            self.fields["full_name"].required = True
            self.fields["phone"].required = True
        else:
            del self.fields["full_name"], self.fields["phone"]

    def decisions(self):
        return [
            Decision(
                purpose=self.choices[pk].purpose,
                action=Action.GRANTED,
                notice=self.choices[pk].notice,
            )
            for pk in self.cleaned_data["purposes"]
        ]

    def act(self, request) -> ConsentAct:
        """The person's own act on their link, with their IP address and browser as proof."""
        return ConsentAct(
            decisions=self.decisions(),
            channel=Channel.WEB_FORM,
            by_subject=True,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class GenericLinkForm(forms.Form):
    """A poster's link: which purposes it asks for and how long it works."""

    label = forms.CharField(
        label=_("Label"),
        max_length=120,
        required=False,
        help_text=_("Where the poster hangs, e.g. “Reception”."),
    )
    purposes = forms.ModelMultipleChoiceField(
        label=_("Purposes"), queryset=Purpose.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=366, initial=settings.CONSENT_LINK_DAYS
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purposes"].queryset = Purpose.objects.filter(
            organisation=organisation, active=True
        )
