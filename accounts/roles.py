"""Roles per membership and what each may do (ARCHITECTURE invariant 1).

A permission is a plain name; views ask for one through ``accounts.access.org_view``. Keeping the
whole matrix in one table lets a reader (or an auditor) see who may do what without running code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DPO = "dpo", _("Data protection officer")
    STAFF = "staff", _("Staff")
    AUDITOR = "auditor", _("Auditor (read-only)")


ALL = frozenset(Role)
DPO = frozenset({Role.DPO})
DPO_AUDITOR = frozenset({Role.DPO, Role.AUDITOR})
DPO_STAFF = frozenset({Role.DPO, Role.STAFF})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Everyone in the organisation sees its dashboard and subjects.
    "view": ALL,
    "view_subjects": ALL,
    # Staff capture consent and log requests; auditors never write.
    "capture_consent": DPO_STAFF,
    "withdraw_consent": DPO_STAFF,
    # The register as a whole, the audit trail and exports are for the DPO and auditors.
    "view_register": DPO_AUDITOR,
    "view_activity": DPO_AUDITOR,
    "export": DPO_AUDITOR,
    "verify_ledger": DPO_AUDITOR,
    # Only the DPO changes the organisation, its people and its registers.
    "manage_organisation": DPO,
    "manage_members": DPO,
    "manage_purposes": DPO,
    "import_consents": DPO,
    # API keys (api/): other systems act for the organisation, so only the DPO makes them.
    "manage_api_keys": DPO,
    # The record of processing activities (GDPR Art. 30): everyone reads it, the DPO keeps it.
    "manage_processing": DPO,
    # WhatsApp groups: the DPO sets them up, staff keep their members in step.
    "manage_groups": DPO,
    "manage_group_members": DPO_STAFF,
    # Rights requests (GDPR Art. 12-21): everyone reads the register, staff log requests and
    # settle who is asking, the DPO decides (extension, clock, handler, answer, refusal).
    "view_requests": ALL,
    "log_request": DPO_STAFF,
    "handle_requests": DPO,
    # Rights requests: only the DPO carries out what a right does to the person's data
    # (rights_requests.fulfilment: exports, rectification, blocking, restriction, objection).
    "carry_out_rights": DPO,
}


def role_can(role: str, permission: str) -> bool:
    try:
        return role in PERMISSIONS[permission]
    except KeyError:
        raise ValueError(f"Unknown permission {permission!r}") from None
