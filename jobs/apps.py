from django.apps import AppConfig
from django.core.signals import request_started
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        from . import background

        # Only a process that serves pages starts the in-process runner: migrate, shell and the
        # other management commands never run jobs behind the user's back.
        request_started.connect(
            background.start_with_first_request, dispatch_uid="jobs.background.start"
        )
