from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from consents.models import DataSubject, Purpose
from consents.phones import try_parse_phone
from evidence import runners

from ._export import organisation, run_here


class Command(BaseCommand):
    help = "Write a signed proof-of-consent certificate (PDF/A-3b) for one person."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation short name (slug)")
        parser.add_argument("--subject", required=True, help="Subject id or phone number")
        parser.add_argument("--purpose", help="Only this purpose (its code)")
        parser.add_argument("--language", choices=[code for code, _ in settings.LANGUAGES])
        parser.add_argument("-o", "--output", required=True, help="PDF file to write")

    def handle(self, *args, **options):
        org = organisation(options["org"])
        raw = options["subject"].strip()
        subjects = DataSubject.objects.filter(organisation=org)
        phone = try_parse_phone(raw, org.country)
        if phone is not None:
            subject = subjects.filter(phone=phone).first()
        else:
            subject = subjects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if subject is None:
            raise CommandError(f"No person {raw!r} in {org.slug}")
        purpose = None
        if options["purpose"]:
            purpose = Purpose.objects.filter(organisation=org, code=options["purpose"]).first()
            if purpose is None:
                raise CommandError(f"No purpose with code {options['purpose']!r}")
        run_here(
            organisation=org,
            kind=runners.CERTIFICATE,
            parameters={
                "subject_id": subject.pk,
                "purpose_id": purpose.pk if purpose else None,
                "language": options["language"] or org.default_language,
            },
            description=subject.full_name,
            output=options["output"],
            stdout=self.stdout,
        )
