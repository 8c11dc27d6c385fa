from django.core.management.base import CommandError

from accounts.models import Organisation


def chosen_organisations(slug: str | None):
    """Every organisation, or the one named by --org (an unknown name is an error)."""
    organisations = Organisation.objects.order_by("slug")
    if slug:
        organisations = organisations.filter(slug=slug)
        if not organisations.exists():
            raise CommandError(f"No organisation with short name {slug!r}")
    return organisations
