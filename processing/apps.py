from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessingConfig(AppConfig):
    name = "processing"

    def ready(self):
        from evidence.pack_sections import PackSection
        from evidence.pack_sections import register as register_section
        from jobs.registry import JobKind, register

        from . import packs, runners

        register(
            JobKind(
                code=runners.ROPA,
                label=_("Record of processing activities"),
                runner=runners.run_ropa,
                start_url="processing:register",
                start_label=_("Export the record of processing"),
                describe=runners.describe,
            )
        )
        # Evidence packs carry the record as it stood at their end date (evidence.packs).
        register_section(
            PackSection(
                code="ropa", label=_("Record of processing activities"), write=packs.write_ropa
            )
        )
