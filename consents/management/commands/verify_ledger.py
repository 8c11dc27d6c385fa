from django.core.management.base import BaseCommand, CommandError

from accounts.management.organisations import chosen_organisations
from consents.services import ledger_verify


class Command(BaseCommand):
    help = (
        "Recompute each organisation's consent chain and hold it against every signed checkpoint "
        "and earlier check; report OK with the head (and sign a checkpoint of it), or the break."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Organisation short name (slug); default: all")

    def handle(self, *args, org=None, **options):
        organisations = chosen_organisations(org)
        broken = 0
        for organisation in organisations:
            check = ledger_verify(organisation=organisation, triggered_by="verify_ledger command")
            if check.ok:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{organisation.slug}: OK, {check.events_checked} events, head "
                        f"#{check.head_sequence} {check.head_hash}"
                    )
                )
            else:
                broken += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"{organisation.slug}: BROKEN at sequence {check.broken_sequence}: "
                        f"{check.reason}"
                    )
                )
        if broken:
            raise CommandError(f"{broken} organisation(s) have a broken consent chain")
