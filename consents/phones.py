"""Phone numbers as people type them: '600 12 34 56', '+34600123456', '0034 600-123-456'."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

# phonenumbers silently drops letters and extensions ("600ABC123", "600 12 34 56 ext. 7");
# a consent recorded against a trimmed number would belong to someone else, so refuse them.
_ALLOWED = re.compile(r"^\+?[0-9 ()./\-]{6,30}$")


def parse_phone(raw: str, region: str) -> PhoneNumber:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if not _ALLOWED.match(text):
        raise ValidationError(
            _(
                "“%(value)s” is not a phone number: use digits, spaces and an optional leading +"
                " (no letters or extensions)."
            )
            % {"value": text[:40]},
            code="invalid_characters",
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number for %(region)s or in international form.")
            % {"value": text[:40], "region": region},
            code="invalid",
        )
    return PhoneNumber.from_string(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def try_parse_phone(raw: str, region: str) -> PhoneNumber | None:
    try:
        return parse_phone(raw, region)
    except ValidationError:
        return None


def e164(phone) -> str:
    """A stored number (DataSubject.phone: a PhoneNumber, or None or "" when blank) in E.164, ""
    for none. ``if phone`` would format and validate the number once more just to answer."""
    if isinstance(phone, PhoneNumber) and (phone.raw_input or phone.national_number):
        return phone.as_e164
    return ""
