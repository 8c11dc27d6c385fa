from datetime import date

from django.core.management.base import BaseCommand, CommandError

from consents.models import Purpose
from evidence import runners
from evidence.packs import PackScope, subject_scope_filter

from ._export import organisation, run_here


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Write an evidence pack (ZIP) for an inquiry: signed summary, records, proofs."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation short name (slug)")
        parser.add_argument("--purpose", action="append", default=[], help="Purpose code (repeat)")
        parser.add_argument("--from", dest="date_from", help="First day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="Last day (YYYY-MM-DD)")
        parser.add_argument(
            "--subject", action="append", default=[], help="Subject id or phone (repeat)"
        )
        parser.add_argument(
            "--no-requests",
            action="store_true",
            help="Leave out the rights-request register (included by default)",
        )
        parser.add_argument(
            "--no-ropa",
            action="store_true",
            help="Leave out the record of processing activities (included by default)",
        )
        parser.add_argument(
            "--for-authority",
            action="store_true",
            help="For a court or an authority: include people whose data is blocked"
            " (LOPDGDD Art. 32)",
        )
        parser.add_argument("-o", "--output", required=True, help="ZIP file to write")

    def handle(self, *args, **options):
        org = organisation(options["org"])
        known = set(Purpose.objects.filter(organisation=org).values_list("code", flat=True))
        unknown = [code for code in options["purpose"] if code not in known]
        if unknown:
            raise CommandError(f"Unknown purpose code(s): {', '.join(unknown)}")
        scope = PackScope(
            purposes=options["purpose"],
            date_from=_date(options["date_from"]) if options["date_from"] else None,
            date_to=_date(options["date_to"]) if options["date_to"] else None,
            subject_ids=subject_scope_filter(org, options["subject"]),
            requests=not options["no_requests"],
            ropa=not options["no_ropa"],
            for_authority=options["for_authority"],
        )
        if options["subject"] and not scope.subject_ids:
            raise CommandError("None of these people is on record.")
        if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
            raise CommandError("--to is before --from")
        run_here(
            organisation=org,
            kind=runners.PACK,
            parameters=scope.to_parameters(),
            description=scope.describe(),
            output=options["output"],
            stdout=self.stdout,
        )
