from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsRequestsConfig(AppConfig):
    name = "rights_requests"

    def ready(self):
        # Evidence packs include the register; evidence cannot import this app (its letters
        # use evidence's PDFs), so the section is registered here.
        from evidence.pack_sections import PackSection, register

        from .pack import write_register

        register(PackSection(code="requests", label=_("Rights requests"), write=write_register))
