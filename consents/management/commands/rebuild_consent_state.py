from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from consents.services import consent_state_rebuild


class Command(BaseCommand):
    help = "Recompute the current consent state (subject, purpose) from the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation short name (slug); default: all")

    def handle(self, *args, org=None, **options):
        organisations = Organisation.objects.order_by("slug")
        if org:
            organisations = organisations.filter(slug=org)
            if not organisations.exists():
                raise CommandError(f"No organisation with short name {org!r}")
        for organisation in organisations:
            count = consent_state_rebuild(organisation=organisation)
            self.stdout.write(f"{organisation.slug}: {count} consent states rebuilt")
