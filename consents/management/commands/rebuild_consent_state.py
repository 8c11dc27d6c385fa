from django.core.management.base import BaseCommand

from accounts.management.organisations import chosen_organisations
from consents.services import consent_state_rebuild


class Command(BaseCommand):
    help = "Recompute the current consent state (subject, purpose) from the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation short name (slug); default: all")

    def handle(self, *args, org=None, **options):
        organisations = chosen_organisations(org)
        for organisation in organisations:
            count = consent_state_rebuild(organisation=organisation)
            self.stdout.write(f"{organisation.slug}: {count} consent states rebuilt")
