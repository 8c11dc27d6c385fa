"""Input of the fulfilment pages (rights_requests.fulfilment_views): shape only; what is
allowed is decided by rights_requests.fulfilment."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consents.phones import parse_phone

from .choices import ErasureException
from .fulfilment import SCOPE_ALL, SCOPE_PART

RESTRICTION_GROUND_CHOICES = [
    ("accuracy", _("The person contests the accuracy of the data (Art. 18(1)(a))")),
    (
        "unlawful",
        _("The processing is unlawful and the person prefers restriction (Art. 18(1)(b))"),
    ),
    ("legal_claims", _("The person needs the data for a legal claim (Art. 18(1)(c))")),
    ("objection_pending", _("An objection is being weighed (Art. 18(1)(d))")),
]


class RectificationForm(forms.Form):
    """GDPR Art. 16: the identity as it should be; the form starts with the one on record."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "dir": "ltr"}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    preferred_language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, subject, **kwargs):
        self.subject = subject
        initial = {
            "full_name": subject.full_name,
            "phone": subject.phone.as_international if subject.phone else "",
            "email": subject.email,
            "preferred_language": subject.preferred_language,
        }
        super().__init__(*args, initial=initial, **kwargs)

    def clean_phone(self):
        try:
            return parse_phone(self.cleaned_data["phone"], self.subject.organisation.country)
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    def changes(self) -> dict:
        """Only what differs from the record (the service refuses a rectification of nothing)."""
        data = self.cleaned_data
        return {
            name: value
            for name, value in data.items()
            if (getattr(self.subject, name) or "")
            != (value.strip() if isinstance(value, str) else value)
        }


class ErasureForm(forms.Form):
    """GDPR Art. 17: erase (block, then purge), unless an Art. 17(3) exception applies."""

    exception = forms.ChoiceField(
        label=_("Art. 17(3) exception"),
        choices=[("", _("None: erase"))] + list(ErasureException.choices),
        required=False,
    )
    exception_scope = forms.ChoiceField(
        label=_("The exception covers"),
        choices=[
            (SCOPE_ALL, _("All of the data: nothing is erased")),
            (
                SCOPE_PART,
                _("Part of the data: the person is blocked; what it needs is kept longer"),
            ),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    exception_note = forms.CharField(
        label=_("What the exception keeps, and why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It goes into the answer to the person (GDPR Art. 12(4))."),
    )
    keep_until = forms.DateField(
        label=_("Keep the blocked data until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only with an exception over part of the data; empty: the blocking period."),
    )
    confirm = forms.BooleanField(
        label=_("I have checked that this request asks for erasure and comes from the person."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class RestrictionForm(forms.Form):
    ground = forms.ChoiceField(
        label=_("Ground (GDPR Art. 18(1))"),
        choices=RESTRICTION_GROUND_CHOICES,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class RestrictionLiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the restriction ends"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text=_("The person must be told before the restriction is lifted (Art. 18(3))."),
    )
