"""Template filters for the evidence PDFs (templates/pdf/)."""

from django import template

from evidence.pdf import isolate_numbers

register = template.Library()


@register.filter
def isolate_ltr(value) -> str:
    """Isolate the article references, versions and numbers inside a translated label
    ("المادة 6(1)(a)"), so an Arabic page does not print them as "(a)(1)6"."""
    return isolate_numbers(str(value))


@register.filter
def isolate(value) -> str:
    """``value`` between U+2068 FIRST STRONG ISOLATE and U+2069: a name typed by a person, set
    inside a translated sentence, keeps its own direction and its punctuation ("S.L." in
    Arabic text otherwise prints ".S.L")."""
    return f"\u2068{value}\u2069"
