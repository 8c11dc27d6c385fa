"""python manage.py import_consents --org SLUG FILE.csv [--check-only] [--as EMAIL]

Checks a legacy consent list and, when it has no errors, records it in one transaction (the file
format is described in consents/imports.py). Exits with 1 when the file has errors.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.management.organisations import organisation_or_error
from accounts.models import Membership
from consents import imports

LISTED_ERRORS = 50


class Command(BaseCommand):
    help = "Check a CSV of existing consents and, if it has no errors, import it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--org", required=True, help="the organisation's short name (slug)")
        parser.add_argument(
            "--check-only", action="store_true", help="report what is wrong; record nothing"
        )
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="the member recorded as having imported the file (must be allowed to import)",
        )

    def handle(self, *args, file, org, check_only, as_email, **options):
        organisation = organisation_or_error(org)
        user = self._importer(organisation, as_email)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with path.open("rb") as fileobj:
            if check_only:
                report = imports.import_check(organisation=organisation, fileobj=fileobj)
                self._print_report(report)
                if not report.ok:
                    raise CommandError("The file has errors: nothing was imported.")
                self.stdout.write(self.style.SUCCESS("The file has no errors."))
                return
            try:
                result = imports.import_apply(
                    organisation=organisation,
                    fileobj=fileobj,
                    imported_by=user,
                    progress=self._progress if self.stdout.isatty() else None,
                )
            except imports.ImportRefused as refused:
                self._print_report(refused.report)
                raise CommandError(refused.messages[0]) from None
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        self._print_result(result)

    def _importer(self, organisation, email):
        if not email:
            return None
        membership = (
            Membership.objects.select_related("user")
            .filter(organisation=organisation, user__email__iexact=email)
            .first()
        )
        if membership is None:
            raise CommandError(f"{email} is not a member of {organisation.slug}.")
        if not membership.can("import_consents"):
            raise CommandError(f"{email} may not import consents (role {membership.role}).")
        return membership.user

    def _progress(self, done, total):
        end = "\n" if done >= total else ""
        self.stdout.write(f"\r  recorded {done:,} of {total:,} rows", ending=end)
        self.stdout.flush()

    def _print_report(self, report):
        write = self.stdout.write
        write(f"{report.filename}  SHA-256 {report.sha256}")
        write(
            f"  rows: {report.rows:,}   people: {report.subjects_new:,} new,"
            f" {report.subjects_existing:,} existing   events: "
            + ", ".join(f"{count:,} {action}" for action, count in report.events.items())
        )
        for warning in report.warnings[:LISTED_ERRORS]:
            write(f"  note  row {warning.row} {warning.column}: {warning.message}")
        for error in report.errors[:LISTED_ERRORS]:
            column = f" {error.column}" if error.column else ""
            write(self.style.ERROR(f"  row {error.row}{column}: {error.message}"))
        more = report.error_count - min(len(report.errors), LISTED_ERRORS)
        if more > 0:
            write(self.style.ERROR(f"  ... and {more:,} more errors"))
        if report.error_count:
            write(self.style.ERROR(f"  {report.error_count:,} errors in total"))

    def _print_result(self, result):
        if result.already_imported:
            self.stdout.write(
                self.style.WARNING(
                    f"{result.filename} was imported before (SHA-256 {result.sha256}):"
                    f" nothing was added. Ledger #{result.first_sequence}-#{result.last_sequence}."
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.filename} (SHA-256 {result.sha256}):"
                f" {result.events_recorded:,} events, {result.subjects_created:,} new people,"
                f" {result.subjects_existing:,} existing. "
                f"Ledger #{result.first_sequence}-#{result.last_sequence}."
            )
        )
