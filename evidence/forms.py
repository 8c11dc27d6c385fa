from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from consents.models import Purpose


class PackForm(forms.Form):
    purposes = forms.ModelMultipleChoiceField(
        label=_("Purposes"),
        queryset=Purpose.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every purpose."),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    subjects = forms.CharField(
        label=_("Only these people"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Phone numbers or ids, one per line. Empty: everyone in scope."),
    )
    requests = forms.BooleanField(
        label=_("Include the rights-request register"),
        required=False,
        initial=True,
        help_text=_(
            "Requests received in the period (of these people), with their dates, whether each"
            " was answered on time, and the answer letters."
        ),
    )
    ropa = forms.BooleanField(
        label=_("Include the record of processing activities"),
        required=False,
        initial=True,
        help_text=_(
            "As it stood at the end of the last day (or now): ropa.pdf, signed, and ropa.csv."
        ),
    )
    for_authority = forms.BooleanField(
        label=_("For a court or an authority (includes people whose data is blocked)"),
        required=False,
        help_text=_(
            "Blocked data is kept only for courts and authorities (LOPDGDD Art. 32): tick only"
            " for an inquiry of the AEPD, a court or another authority."
        ),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purposes"].queryset = Purpose.objects.filter(organisation=organisation)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class CertificateForm(forms.Form):
    purpose = forms.ModelChoiceField(
        label=_("Purpose"),
        queryset=Purpose.objects.none(),
        required=False,
        empty_label=_("All purposes"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = Purpose.objects.filter(organisation=organisation)
        self.fields["language"].initial = organisation.default_language


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("Certificate (PDF) or evidence pack (ZIP)"))


class CertificateUploadForm(forms.Form):
    pkcs12 = forms.FileField(label=_("Certificate file (.p12 or .pfx)"))
    password = forms.CharField(
        label=_("Its password"), widget=forms.PasswordInput, required=False, strip=False
    )


class CheckpointUploadForm(forms.Form):
    file = forms.FileField(label=_("Checkpoint file (.json) from your own archive"))
