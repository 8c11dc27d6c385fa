"""Shape of input only; the rules live in processing.services."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from consents.choices import LegalBasis
from consents.models import Purpose

from .choices import (
    SPECIAL_CATEGORIES,
    Art9Condition,
    DataCategory,
    RecipientKind,
    Safeguard,
    SecurityMeasure,
    Status,
    SubjectCategory,
)
from .models import ProcessingActivity, ProcessorRecord

EDITABLE_STATUSES = [(Status.DRAFT, Status.DRAFT.label), (Status.ACTIVE, Status.ACTIVE.label)]


def _members(organisation):
    return (
        get_user_model()
        .objects.filter(memberships__organisation=organisation)
        .order_by("full_name", "email")
    )


def _data_category_choices():
    return [
        (code, f"{label} ★" if code in SPECIAL_CATEGORIES else label)
        for code, label in DataCategory.choices
    ]


class _OwnerMixin:
    def _limit_owner(self, organisation):
        self.fields["owner"].queryset = _members(organisation)
        self.fields["owner"].label_from_instance = lambda user: user.display_name
        self.fields["owner"].required = False


class ActivityForm(_OwnerMixin, forms.ModelForm):
    status = forms.ChoiceField(label=_("Status"), choices=EDITABLE_STATUSES)
    subject_categories = forms.MultipleChoiceField(
        label=_("Categories of data subjects"),
        choices=SubjectCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Categories of personal data"),
        choices=_data_category_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "★ special categories (GDPR Art. 9(1)): each purpose needs an Art. 9(2) condition."
        ),
    )
    security_measures = forms.MultipleChoiceField(
        label=_("Security measures"),
        choices=SecurityMeasure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ProcessingActivity
        fields = [
            "reference",
            "name",
            "status",
            "owner",
            "description",
            "joint_controllers",
            "representative",
            "dpo_name",
            "dpo_email",
            "subject_categories",
            "subject_categories_other",
            "data_categories",
            "data_categories_other",
            "special_categories_other",
            "retention",
            "security_measures",
            "security_measures_other",
            "systems",
            "dpia_required",
            "dpia_done_on",
            "dpia_reference",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "joint_controllers": forms.Textarea(attrs={"rows": 2}),
            "representative": forms.Textarea(attrs={"rows": 2}),
            "subject_categories_other": forms.Textarea(attrs={"rows": 2}),
            "data_categories_other": forms.Textarea(attrs={"rows": 2}),
            "special_categories_other": forms.Textarea(attrs={"rows": 2}),
            "retention": forms.Textarea(attrs={"rows": 3}),
            "security_measures_other": forms.Textarea(attrs={"rows": 2}),
            "systems": forms.Textarea(attrs={"rows": 2}),
            "dpia_done_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "dpia_reference": forms.TextInput(attrs={"dir": "ltr"}),
            "dpo_email": forms.EmailInput(attrs={"dir": "ltr"}),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_owner(organisation)

    def _post_clean(self):
        # Model validation (constraints, references) runs in processing.services.
        pass


class PurposeLineForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=Purpose.objects.none())
    # A blank first choice: an untouched spare row must stay empty, not "consent".
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"),
        choices=[("", "---------")] + list(LegalBasis.choices),
    )
    art9_condition = forms.ChoiceField(
        label=_("Art. 9(2) condition"),
        choices=[("", _("None (no special categories)"))] + list(Art9Condition.choices),
        required=False,
    )
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = Purpose.objects.filter(organisation=organisation)


class RecipientForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Recipient"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", "---------")] + list(RecipientKind.choices),
    )
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    third_country = forms.BooleanField(label=_("Outside the EEA"), required=False)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class TransferForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    country = forms.CharField(label=_("Third country"), max_length=100)
    recipient = forms.CharField(label=_("Recipient"), max_length=200, required=False)
    safeguard = forms.ChoiceField(
        label=_("Safeguard"),
        choices=[("", _("None yet"))] + list(Safeguard.choices),
        required=False,
    )
    document = forms.CharField(
        label=_("Document"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        help_text=_("A link or the reference of the decision, the clauses or the contract."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class ControllerForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Controller"), max_length=200)
    contact = forms.CharField(label=_("Contact details"), max_length=300, required=False)
    representative = forms.CharField(
        label=_("Its representative or DPO"), max_length=300, required=False
    )
    processing = forms.CharField(
        label=_("Categories of processing"), widget=forms.Textarea(attrs={"rows": 2})
    )


def _formset(form, prefix, data, initial, extra, **kwargs):
    formset_class = forms.formset_factory(form, extra=extra, can_delete=True)
    return formset_class(data, initial=initial, prefix=prefix, form_kwargs=kwargs)


def rows_of(formset) -> list[dict]:
    """The filled rows of a valid formset, without the deleted and the empty ones."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        rows.append({k: v for k, v in data.items() if k != "DELETE"})
    return rows


def activity_formsets(data, *, activity: ProcessingActivity | None, organisation) -> dict:
    """The purpose, recipient and transfer lists of an activity, as formsets."""
    purposes = recipients = transfers = []
    if activity is not None and activity.pk:
        purposes = list(
            activity.purpose_lines.values("id", "purpose", "legal_basis", "art9_condition", "notes")
        )
        recipients = list(
            activity.recipients.values("id", "name", "kind", "country", "third_country", "notes")
        )
        transfers = list(
            activity.transfers.values(
                "id", "country", "recipient", "safeguard", "document", "notes"
            )
        )
    return {
        "purposes": _formset(
            PurposeLineForm, "purposes", data, purposes, 2, organisation=organisation
        ),
        "recipients": _formset(RecipientForm, "recipients", data, recipients, 2),
        "transfers": _formset(TransferForm, "transfers", data, transfers, 1),
    }


class ProcessorRecordForm(_OwnerMixin, forms.ModelForm):
    status = forms.ChoiceField(label=_("Status"), choices=EDITABLE_STATUSES)
    security_measures = forms.MultipleChoiceField(
        label=_("Security measures"),
        choices=SecurityMeasure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ProcessorRecord
        fields = [
            "name",
            "status",
            "owner",
            "representative",
            "dpo_name",
            "dpo_email",
            "sub_processors",
            "security_measures",
            "security_measures_other",
        ]
        widgets = {
            "representative": forms.Textarea(attrs={"rows": 2}),
            "sub_processors": forms.Textarea(attrs={"rows": 2}),
            "security_measures_other": forms.Textarea(attrs={"rows": 2}),
            "dpo_email": forms.EmailInput(attrs={"dir": "ltr"}),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_owner(organisation)

    def _post_clean(self):
        pass


def processor_formsets(data, *, record: ProcessorRecord | None) -> dict:
    controllers = transfers = []
    if record is not None and record.pk:
        controllers = list(
            record.controllers.values("id", "name", "contact", "representative", "processing")
        )
        transfers = list(
            record.transfers.values("id", "country", "recipient", "safeguard", "document", "notes")
        )
    return {
        "controllers": _formset(ControllerForm, "controllers", data, controllers, 2),
        "transfers": _formset(TransferForm, "transfers", data, transfers, 1),
    }


class AsOfForm(forms.Form):
    as_of = forms.DateField(
        label=_("As it stood on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: as it stands now."),
    )


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("pdf", _("PDF, signed")),
            ("xlsx", _("Spreadsheet (XLSX)")),
            ("csv", _("CSV")),
        ],
    )
    as_of = forms.DateField(
        label=_("As it stood on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: as it stands now."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = organisation.default_language
