"""Purge blocked people whose blocking period has ended (what the nightly task does).

python manage.py purge_blocked            # purge everyone due
python manage.py purge_blocked --dry-run  # list who is due, change nothing
"""

from django.core.management.base import BaseCommand

from rights_requests import purge


class Command(BaseCommand):
    help = "Purge the personal data of blocked people whose blocking period has ended."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List who is due; purge nobody.")

    def handle(self, *args, dry_run=False, **options):
        due = list(purge.due_for_purge().order_by("pk").values_list("pk", "purge_after"))
        if dry_run:
            for pk, purge_after in due:
                self.stdout.write(f"subject {pk}: blocked until {purge_after}")
            self.stdout.write(f"{len(due)} due for purge (dry run: nothing changed)")
            return
        purged = purge.purge_due()
        for pk in purged:
            self.stdout.write(f"subject {pk}: purged")
        failed = len(due) - len(purged)
        self.stdout.write(
            f"{len(purged)} purged" + (f", {failed} failed (see the log)" if failed else "")
        )
        if failed:
            raise SystemExit(1)
