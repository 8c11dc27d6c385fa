"""What an API key may do: each scope grants some of the page permissions of accounts.roles.

A key is the organisation's, made by its DPO; it never does more than its scopes, and each API
view asks for one page permission (the same name its page asks for), so the API and the pages
share one access table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CONSENT_READ = "consents:read", _("Read consent state (consent check, people, events)")
    CONSENT_WRITE = "consents:write", _("Record consent (new events, proof files)")
    REQUESTS = "requests", _("Rights requests (log them, read their status)")
    REGISTERS_READ = "registers:read", _("Read the registers (purposes, notices, groups)")
    EXPORTS = "exports", _("Evidence exports (certificates, packs, record of processing)")


# Scope -> the page permissions (accounts.roles.PERMISSIONS) it grants.
GRANTS: dict[str, frozenset[str]] = {
    Scope.CONSENT_READ: frozenset({"view", "view_subjects"}),
    Scope.CONSENT_WRITE: frozenset({"capture_consent", "withdraw_consent"}),
    Scope.REQUESTS: frozenset({"view_requests", "log_request"}),
    Scope.REGISTERS_READ: frozenset({"view", "view_register"}),
    Scope.EXPORTS: frozenset({"export"}),
}


def scopes_grant(scopes, permission: str) -> bool:
    return any(permission in GRANTS.get(scope, ()) for scope in scopes)
