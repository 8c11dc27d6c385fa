"""How every management command finds the organisation(s) its --org names."""

from django.core.management.base import CommandError

from accounts.models import Organisation


def organisation_or_error(slug: str) -> Organisation:
    """The organisation with this short name, or a CommandError that says so."""
    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        raise CommandError(f"No organisation with short name {slug!r}")
    return found


def chosen_organisations(slug: str | None):
    """Every organisation, or the one named by --org (an unknown name is an error)."""
    if slug:
        return Organisation.objects.filter(pk=organisation_or_error(slug).pk)
    return Organisation.objects.order_by("slug")
