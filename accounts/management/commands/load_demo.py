import importlib

from django.apps import apps
from django.core.management.base import BaseCommand

from accounts import demo

PROJECT_APPS = ["consents", "groups", "rights_requests", "processing", "evidence"]


class Command(BaseCommand):
    help = "Load (or refresh) the demo organisation with a DPO, a staff and an auditor login."

    def handle(self, *args, **options):
        organisation, logins = demo.load()
        for label in PROJECT_APPS:
            if not apps.is_installed(label):
                continue
            try:
                module = importlib.import_module(f"{label}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{label}.demo":
                    raise
                continue
            summary = module.load(organisation=organisation)
            if summary:
                self.stdout.write(f"  {label}: {summary}")
        self.stdout.write(self.style.SUCCESS(f"Demo organisation: {organisation.legal_name}"))
        self.stdout.write("Demo logins (e-mail / password / role):")
        for email, password, role, created in logins:
            note = "" if created else "  (existed already: password unchanged since first load)"
            self.stdout.write(f"  {email:32} {password:20} {role}{note}")
