"""The shape of what the register's pages accept; the rules live in rights_requests.services."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from consents.forms import MultipleFileField, MultipleFileInput
from consents.phones import parse_phone
from consents.uploads import inspect_upload

from .choices import (
    ErasureException,
    LetterKind,
    RequestChannel,
    RequestStatus,
    Right,
    SentVia,
    VerificationMethod,
)
from .services import RIGHTS_FROM_LINK, STAFF_METHODS

# What a person asks for, in their words (the register keeps the article).
PERSON_RIGHTS = {
    Right.ACCESS: _("See my data: a copy of everything you hold about me"),
    Right.RECTIFICATION: _("Correct my data"),
    Right.ERASURE: _("Erase my data"),
    Right.OBJECTION: _("Stop marketing messages (objection)"),
    Right.RESTRICTION: _("Limit the use of my data for now"),
    Right.PORTABILITY: _("Get my data in a file to take elsewhere"),
    Right.WITHDRAWAL: _("Withdraw all my consents"),
}
STAFF_CHANNELS = [c for c in RequestChannel.choices if c[0] != RequestChannel.PERSONAL_LINK]
# At logging time staff can only have seen an ID (the matches are checked on the request's page).
LOG_METHODS = [
    ("", _("Not checked yet")),
    (VerificationMethod.ID_IN_PERSON, VerificationMethod.ID_IN_PERSON.label),
    (VerificationMethod.OTHER, VerificationMethod.OTHER.label),
]
SEND_HELP = _(
    "By e-mail the signed PDF is attached (to the address given with the request unless you"
    " type another). Otherwise download it from the request's page and take it there."
)


class _PhoneMixin:
    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "")
        if not raw.strip():
            return None
        return parse_phone(raw, self.organisation.country)


class RequestLogForm(_PhoneMixin, forms.Form):
    """Staff log a request that came by WhatsApp, e-mail, phone, post or in person."""

    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "autofocus": True, "dir": "ltr"}
        ),
        help_text=_("The number the request came from: it finds the person on record."),
    )
    right = forms.ChoiceField(
        label=_("What the person asks for"), choices=[("", "—")] + Right.choices
    )
    channel = forms.ChoiceField(
        label=_("How it arrived"), choices=STAFF_CHANNELS, initial=RequestChannel.WHATSAPP
    )
    received_on = forms.DateField(
        label=_("Received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day it reached the organisation: the month to answer starts then."),
    )
    details = forms.CharField(
        label=_("What was asked"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Quote the message; for a correction, say what is to be corrected."),
    )
    files = MultipleFileField(
        label=_("The message or letter (JPEG, PNG, PDF)"),
        required=False,
        widget=MultipleFileInput(
            attrs={"accept": "image/*,application/pdf", "capture": "environment"}
        ),
    )
    name = forms.CharField(label=_("Name given"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail given"), required=False)
    language = forms.ChoiceField(label=_("Language of the answer"), choices=settings.LANGUAGES)
    identity_method = forms.ChoiceField(
        label=_("Identity"), choices=LOG_METHODS, required=False, initial=""
    )
    identity_note = forms.CharField(
        label=_("How it was checked"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["language"].initial = organisation.default_language

    def clean_files(self):
        return [inspect_upload(f) for f in self.cleaned_data.get("files") or []]


class RegisterFilterForm(forms.Form):
    WHEN = [
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("week", _("Due within 7 days")),
        ("closed", _("Closed")),
        ("all", _("All")),
    ]
    q = forms.CharField(label=_("Search"), required=False)
    when = forms.ChoiceField(label=_("Which"), choices=WHEN, required=False, initial="open")
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status"))] + RequestStatus.choices, required=False
    )
    right = forms.ChoiceField(
        label=_("Right"), choices=[("", _("Any right"))] + Right.choices, required=False
    )
    as_of = forms.DateField(
        label=_("As it stood on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How did you check who is asking?"),
        choices=[(m.value, m.label) for m in STAFF_METHODS],
        widget=forms.RadioSelect,
    )
    code = forms.CharField(
        label=_("Code the person read to you"),
        max_length=12,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "dir": "ltr"}
        ),
        help_text=_(
            "The person opens their personal link, taps “Show a code” under this request and"
            " reads you the six digits."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: DNI seen, last four digits 1234."),
    )


class ClockStopForm(forms.Form):
    reason = forms.CharField(
        label=_("What identity information are you waiting for?"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class _SendFields(forms.Form):
    sent_via = forms.ChoiceField(
        label=_("How the letter is sent"),
        choices=SentVia.choices,
        initial=SentVia.EMAIL,
        help_text=SEND_HELP,
    )
    sent_to = forms.CharField(
        label=_("Sent to"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )

    def __init__(self, *args, rights_request, **kwargs):
        super().__init__(*args, **kwargs)
        # Offered: the address the request was made from.
        self.fields["sent_to"].initial = rights_request.requester_email


class ExtendForm(_SendFields):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        coerce=int,
        choices=[(1, _("one further month")), (2, _("two further months"))],
        widget=forms.RadioSelect,
        initial=2,
    )
    reason = forms.CharField(
        label=_("Reason (the person is told it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("GDPR Art. 12(3): the complexity and number of the requests."),
    )
    body = forms.CharField(label=_("Letter"), widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["months", "reason", "body", "sent_via", "sent_to"]


class AssignForm(forms.Form):
    handler = forms.ModelChoiceField(
        label=_("Handled by"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = User.objects.filter(
            memberships__organisation=organisation,
            memberships__role__in=[Role.DPO, Role.STAFF],
        ).order_by("full_name", "email")


class AnswerForm(_SendFields):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 6}))
    erasure_exception = forms.ChoiceField(
        label=_("An exception of Art. 17(3) applies"),
        choices=[("", _("No: the data were erased"))] + ErasureException.choices,
        required=False,
    )

    field_order = ["answer", "erasure_exception", "sent_via", "sent_to"]

    def __init__(self, *args, rights_request, **kwargs):
        super().__init__(*args, rights_request=rights_request, **kwargs)
        if rights_request.right != Right.ERASURE:
            del self.fields["erasure_exception"]


class RejectForm(_SendFields):
    reason = forms.CharField(
        label=_("Reasons for refusing (the person is told them)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "GDPR Art. 12(4): the letter adds the right to complain to the AEPD and to go to court."
        ),
    )

    field_order = ["reason", "sent_via", "sent_to"]


class WithdrawnForm(forms.Form):
    note = forms.CharField(
        label=_("What the person said"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LetterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Letter"),
        choices=[(k.value, k.label) for k in (LetterKind.ACKNOWLEDGEMENT, LetterKind.IDENTITY)],
        widget=forms.RadioSelect,
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class LetterSendForm(_SendFields):
    pass


# --- the person's own pages -------------------------------------------------------------------


# What a person asks for and in their words, on their personal link and on the public form
# (both rendered by templates/rights_requests/public/_request_fields.html).


def _person_right_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("What would you like?"),
        choices=[(r.value, PERSON_RIGHTS[r]) for r in RIGHTS_FROM_LINK],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you are asking for.")},
    )


def _person_details_field(label: str, *, rows: int) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": rows})
    )


class LinkRequestForm(forms.Form):
    """What a person asks from their personal link; identity comes with the link."""

    right = _person_right_field()
    details = _person_details_field(
        _("Anything to add (for a correction: what is wrong and what is right)"), rows=3
    )


class PublicRequestForm(_PhoneMixin, forms.Form):
    """The organisation's public request form: the identity is checked afterwards."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}),
    )
    email = forms.EmailField(label=_("Your e-mail address"), required=False)
    right = _person_right_field()
    details = _person_details_field(_("Your request"), rows=4)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
