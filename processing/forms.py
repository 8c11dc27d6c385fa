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
from .services import ACTIVITY_FIELDS, PROCESSOR_FIELDS

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


def _checkboxes(label, choices, **kwargs) -> forms.MultipleChoiceField:
    """A code list (processing.choices), one tick box per code; none ticked is fine."""
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


class _EntryForm(forms.ModelForm):
    """What the forms of an activity and of a processor record share: the status a DPO may set
    (retiring has its own button), the security measures and an owner among the members."""

    status = forms.ChoiceField(label=_("Status"), choices=EDITABLE_STATUSES)
    security_measures = _checkboxes(_("Security measures"), SecurityMeasure.choices)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(organisation)
        self.fields["owner"].label_from_instance = lambda user: user.display_name
        self.fields["owner"].required = False

    def _post_clean(self):
        # Model validation (constraints, references) runs in processing.services.
        pass

    class Meta:
        widgets = {
            "representative": forms.Textarea(attrs={"rows": 2}),
            "security_measures_other": forms.Textarea(attrs={"rows": 2}),
            "dpo_email": forms.EmailInput(attrs={"dir": "ltr"}),
        }


class ActivityForm(_EntryForm):
    subject_categories = _checkboxes(_("Categories of data subjects"), SubjectCategory.choices)
    data_categories = _checkboxes(
        _("Categories of personal data"),
        _data_category_choices,
        help_text=_(
            "★ special categories (GDPR Art. 9(1)): each purpose needs an Art. 9(2) condition."
        ),
    )

    class Meta(_EntryForm.Meta):
        model = ProcessingActivity
        # The fields processing.services writes, in the order of the page.
        fields = ACTIVITY_FIELDS
        widgets = _EntryForm.Meta.widgets | {
            "description": forms.Textarea(attrs={"rows": 3}),
            "joint_controllers": forms.Textarea(attrs={"rows": 2}),
            "subject_categories_other": forms.Textarea(attrs={"rows": 2}),
            "data_categories_other": forms.Textarea(attrs={"rows": 2}),
            "special_categories_other": forms.Textarea(attrs={"rows": 2}),
            "retention": forms.Textarea(attrs={"rows": 3}),
            "systems": forms.Textarea(attrs={"rows": 2}),
            "dpia_done_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "dpia_reference": forms.TextInput(attrs={"dir": "ltr"}),
        }


class _RowForm(forms.Form):
    """A row of one of the lists; ``id`` names the row on record it edits (empty: a new row)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PurposeLineForm(_RowForm):
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


class RecipientForm(_RowForm):
    name = forms.CharField(label=_("Recipient"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", "---------")] + list(RecipientKind.choices),
    )
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    third_country = forms.BooleanField(label=_("Outside the EEA"), required=False)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class TransferForm(_RowForm):
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


class ControllerForm(_RowForm):
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


class ProcessorRecordForm(_EntryForm):
    class Meta(_EntryForm.Meta):
        model = ProcessorRecord
        fields = PROCESSOR_FIELDS
        widgets = _EntryForm.Meta.widgets | {"sub_processors": forms.Textarea(attrs={"rows": 2})}


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


def _as_of_field() -> forms.DateField:
    return forms.DateField(
        label=_("As it stood on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: as it stands now."),
    )


class AsOfForm(forms.Form):
    as_of = _as_of_field()


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("pdf", _("PDF, signed")),
            ("xlsx", _("Spreadsheet (XLSX)")),
            ("csv", _("CSV")),
        ],
    )
    as_of = _as_of_field()
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = organisation.default_language
