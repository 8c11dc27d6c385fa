import importlib

from django.apps import apps
from django.core.management.base import BaseCommand

from accounts import demo

PROJECT_APPS = ["consents", "groups", "rights_requests", "processing", "evidence"]


class Command(BaseCommand):
    help = "Load (or refresh) the demo organisation with a DPO, a staff and an auditor login."

    def handle(self, *args, **options):
        organisation, logins = demo.load()
        modules = [(label, module) for label in PROJECT_APPS if (module := _demo_of(label))]
        for label, module in modules:
            summary = module.load(organisation=organisation)
            if summary:
                self.stdout.write(f"  {label}: {summary}")
        # Once every app has loaded: what one app's demo checks may have changed since (the
        # ledger's check, say, before the group and request demos record their events).
        for _label, module in modules:
            if hasattr(module, "finish"):
                module.finish(organisation=organisation)
        self.stdout.write(self.style.SUCCESS(f"Demo organisation: {organisation.legal_name}"))
        self.stdout.write("Demo logins (e-mail / password / role):")
        for email, password, role, created in logins:
            note = "" if created else "  (existed already: password unchanged since first load)"
            self.stdout.write(f"  {email:32} {password:20} {role}{note}")


def _demo_of(label: str):
    """The app's demo module, or None (app not installed, or no demo)."""
    if not apps.is_installed(label):
        return None
    try:
        return importlib.import_module(f"{label}.demo")
    except ModuleNotFoundError as error:
        if error.name != f"{label}.demo":
            raise
        return None
