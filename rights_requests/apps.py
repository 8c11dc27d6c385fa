from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsRequestsConfig(AppConfig):
    name = "rights_requests"

    def ready(self):
        # Evidence packs include the register; evidence cannot import this app (its letters
        # use evidence's PDFs), so the section is registered here.
        from evidence.pack_sections import PackSection
        from evidence.pack_sections import register as register_section

        from .pack import write_register

        register_section(
            PackSection(code="requests", label=_("Rights requests"), write=write_register)
        )

        from jobs.registry import JobKind, register

        from . import fulfilment, runners

        register(
            JobKind(
                code=fulfilment.ACCESS_JOB,
                label=_("Access copy (GDPR Art. 15)"),
                runner=runners.run_access,
                describe=runners.describe,
            )
        )
        register(
            JobKind(
                code=fulfilment.PORTABILITY_JOB,
                label=_("Portability export (GDPR Art. 20)"),
                runner=runners.run_portability,
                describe=runners.describe,
            )
        )
