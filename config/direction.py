"""Template filters that keep left-to-right fragments readable inside right-to-left text.

Phone numbers, e-mail addresses, version labels ("2025-09"), legal references ("6(1)(a)"),
hashes and ledger references are left-to-right whatever the page's language. Placed next to
Arabic text (an Arabic name, an Arabic sentence) the Unicode bidirectional algorithm reorders
their parts: "+34 600 12 34 56" prints as "56 34 12 600 34+", "2025-09" as "09-2025". Isolating
each one (HTML <bdi dir="ltr">, or the Unicode isolates LRI...PDI in plain text) stops that, on
English pages too, where a phone number follows an Arabic name.

    {% load direction %}
    {{ subject.full_name|bdi }} · {{ subject.phone.as_international|ltr }}
    {{ event.sequence|ref }}            -> #123, isolated
    {{ notice.version|ltr_text }}       -> for plain text: CSV, e-mail, attributes, PDFs
"""

from django import template
from django.utils.html import format_html

register = template.Library()

# Unicode 6.3 directional isolates: LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE.
LRI = "\u2066"
PDI = "\u2069"


def _empty(value) -> bool:
    return value is None or value == ""


@register.filter
def ltr(value):
    """HTML: the value, escaped, isolated as left-to-right text."""
    if _empty(value):
        return ""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


@register.filter
def bdi(value):
    """HTML: the value, escaped, isolated with its own direction (names in any script)."""
    if _empty(value):
        return ""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def ref(value):
    """HTML: a ledger reference "#<sequence>", isolated left-to-right."""
    if _empty(value):
        return ""
    return format_html('<bdi dir="ltr">#{}</bdi>', value)


@register.filter
def ltr_text(value) -> str:
    """Plain text: the value between the Unicode isolates LRI and PDI (autoescaped as usual)."""
    if _empty(value):
        return ""
    return f"{LRI}{value}{PDI}"
