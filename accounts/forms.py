from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Organisation
from .roles import Role


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "legal_name",
            "tax_id",
            "address",
            "country",
            "contact_email",
            "dpo_name",
            "dpo_email",
            "default_language",
            "holiday_region",
            "blocking_years",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "legal_name",
            Row(Column("tax_id", css_class="col-md-6"), Column("country", css_class="col-md-6")),
            "address",
            "contact_email",
            Row(
                Column("dpo_name", css_class="col-md-6"), Column("dpo_email", css_class="col-md-6")
            ),
            "default_language",
            Row(
                Column("holiday_region", css_class="col-md-6"),
                Column("blocking_years", css_class="col-md-6"),
            ),
            Submit("save", _("Save")),
        )


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(
                Column("email", css_class="col-md-5"),
                Column("full_name", css_class="col-md-4"),
                Column("role", css_class="col-md-3"),
            ),
            Submit("invite", _("Add member")),
        )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
