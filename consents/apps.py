from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentsConfig(AppConfig):
    name = "consents"

    def ready(self):
        from jobs.registry import JobKind, register

        from . import runners

        register(
            JobKind(
                code=runners.IMPORT,
                label=_("Consent import"),
                runner=runners.run_import,
                has_file=False,
            )
        )
        register(
            JobKind(
                code=runners.IMPORT_CHECK,
                label=_("Consent import check"),
                runner=runners.run_import_check,
                has_file=False,
            )
        )
