"""Shape of input only; the rules live in groups.services."""

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from consents.models import Purpose, PurposeCategory
from consents.phones import parse_phone

from .models import StaffAccount, UsagePolicyVersion, WhatsAppGroup

MAX_ROSTER_FILE = 512 * 1024


def _helper(label):
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class PhoneField(forms.CharField):
    """A phone number in any format, read with the organisation's country as default region."""

    def __init__(self, *args, region="ES", **kwargs):
        self.region = region
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_phone(value, self.region) if value else value


class GroupForm(forms.ModelForm):
    invite_url = forms.URLField(
        label=_("WhatsApp invite link"),
        max_length=200,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"dir": "ltr"}),
        help_text=_("Shown to nobody: people reach it only after consenting."),
    )

    class Meta:
        model = WhatsAppGroup
        fields = ["name", "purpose", "kind", "invite_url", "admins"]
        widgets = {
            "admins": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = Purpose.objects.filter(
            organisation=organisation, category=PurposeCategory.GROUP_MEMBERSHIP, active=True
        )
        self.fields["admins"].queryset = StaffAccount.objects.filter(
            organisation=organisation, active=True
        )
        self.fields["admins"].required = False
        self.helper = _helper(_("Save"))

    def _post_clean(self):
        # Model validation (purpose category, invite link) runs in groups.services.group_save.
        pass


class StaffAccountForm(forms.Form):
    phone = PhoneField(label=_("WhatsApp number"))
    label = forms.CharField(label=_("Label"), max_length=120, required=False)
    employee = forms.ModelChoiceField(
        label=_("Used by"), queryset=Membership.objects.none(), required=False
    )
    number_type = forms.ChoiceField(label=_("Number type"), choices=StaffAccount.NumberType.choices)
    app = forms.ChoiceField(label=_("App"), choices=StaffAccount.App.choices)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].region = organisation.country
        self.fields["employee"].queryset = Membership.objects.filter(
            organisation=organisation
        ).select_related("user")
        self.fields["employee"].label_from_instance = lambda m: m.user.display_name
        self.helper = _helper(_("Save"))


class MemberAddForm(forms.Form):
    phone = PhoneField(label=_("Phone number"))
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        required=False,
        help_text=_("Needed only for someone not in the register yet."),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].region = organisation.country
        self.helper = _helper(_("Add member"))


class RosterForm(forms.Form):
    numbers = forms.CharField(
        label=_("Participants' numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "dir": "ltr"}),
        help_text=_("One per line, in any format (600 12 34 56, +34 600 12 34 56, 0034…)."),
    )
    file = forms.FileField(
        label=_("Or upload a CSV or text file"),
        required=False,
        help_text=_("The column with the numbers is found by itself; at most 512 KB."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Check"))

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return ""
        if upload.size > MAX_ROSTER_FILE:
            raise ValidationError(_("The file is larger than 512 KB."))
        content = upload.read()
        # Checked by content, not by name: a text file has no NUL bytes and decodes as UTF-8.
        if b"\x00" in content:
            raise ValidationError(_("This is not a text or CSV file."))
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("This is not a text or CSV file.")) from None

    def clean(self):
        data = super().clean()
        text = "\n".join(filter(None, [data.get("numbers", ""), data.get("file", "")]))
        if not text.strip() and not self.errors:
            raise ValidationError(_("Paste the numbers or upload a file."))
        data["text"] = text
        return data


class PolicyForm(forms.ModelForm):
    class Meta:
        model = UsagePolicyVersion
        fields = ["version", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 12})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save draft"))

    def _post_clean(self):
        pass


class InviteForm(forms.Form):
    """The public invite: name, number and one unticked box per purpose (EDPB 05/2020)."""

    full_name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = PhoneField(label=_("Your WhatsApp number"))
    join = forms.BooleanField(required=False)
    purposes = forms.ModelMultipleChoiceField(
        queryset=Purpose.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, organisation, other_purposes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["phone"].region = organisation.country
        self.fields["purposes"].queryset = other_purposes

    def clean(self):
        data = super().clean()
        if not data.get("join"):
            self.add_error(
                "join",
                _(
                    "To join the group, tick the box to agree: members see each other's name,"
                    " number and photo."
                ),
            )
        return data
