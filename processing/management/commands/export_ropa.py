import shutil
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.management.organisations import organisation_or_error
from jobs import services as jobs
from processing import runners
from processing.exports import FORMATS


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Write the record of processing activities (GDPR Art. 30) as a signed PDF/A, an XLSX "
        "spreadsheet or a CSV, now or as it stood at the end of a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation short name (slug)")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        parser.add_argument("--as-of", dest="as_of", help="The record as it stood on (YYYY-MM-DD)")
        parser.add_argument(
            "--language",
            choices=[code for code, _ in settings.LANGUAGES],
            help="Default: the organisation's language",
        )
        parser.add_argument("-o", "--output", required=True, help="File to write")

    def handle(self, *args, **options):
        org = organisation_or_error(options["org"])
        as_of = _date(options["as_of"]) if options["as_of"] else None
        parameters = runners.parameters(
            file_format=options["file_format"],
            as_of=as_of,
            language=options["language"] or org.default_language,
        )
        # The same job row, claim and runner as an export from the page (and its audit entry).
        job = jobs.job_create(
            organisation=org,
            kind=runners.ROPA,
            parameters={**parameters, "source": "command"},
            requested_by=None,
            description=runners.describe_parameters(parameters),
        )
        try:
            job = jobs.job_run_here(job=job, worker="command:" + jobs.worker_name())
        except Exception as error:
            raise CommandError(f"Export failed: {error}") from error
        with job.result.open("rb") as source, open(options["output"], "wb") as target:
            shutil.copyfileobj(source, target)
        self.stdout.write(
            f"{options['output']}: {job.result_size} bytes, SHA-256 {job.result_sha256}"
        )
