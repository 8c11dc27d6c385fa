"""Template filters for the evidence PDFs (templates/pdf/)."""

from django import template

from evidence.pdf import isolate_numbers

register = template.Library()


@register.filter
def isolate_ltr(value) -> str:
    """Isolate the article references, versions and numbers inside a translated label
    ("المادة 6(1)(a)"), so an Arabic page does not print them as "(a)(1)6"."""
    return isolate_numbers(str(value))
