"""Base for every historical model: adds the IP address the change came from (invariant 6)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditedHistoricalModel(models.Model):
    history_ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        abstract = True
