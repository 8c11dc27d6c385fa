"""Writes about API keys: made by the DPO (page or command), shown once, revoked, audited."""

import secrets
from datetime import timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Membership, Organisation, User
from accounts.roles import Role
from accounts.rows import Part, Rows
from accounts.services import audit_record

from .models import PREFIX_LENGTH, ApiKey, key_digest
from .scopes import Scope

KEY_START = "cst_"
# last_used_at is written at most this often: the consent check must not write on every call.
TOUCH_EVERY = timedelta(minutes=1)


def _check_scopes(scopes) -> list[str]:
    chosen = [s for s in Scope.values if s in set(scopes or ())]
    unknown = sorted(set(scopes or ()) - set(Scope.values))
    if unknown:
        raise ValidationError(
            _("Unknown scope: %(names)s. Choose among: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(Scope.values)}
        )
    if not chosen:
        raise ValidationError(_("Choose at least one scope."))
    return chosen


@transaction.atomic
def api_key_create(
    *, organisation: Organisation, name: str, scopes, user: User, request=None
) -> tuple[ApiKey, str]:
    """Make a key; returns it with the plaintext, which is never stored and never shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the key a name that says which system uses it."))
    if len(name) > 100:
        raise ValidationError(_("A key's name is at most 100 characters."))
    if not user.memberships.filter(organisation=organisation, role=Role.DPO).exists():
        raise ValidationError(_("Only the organisation's DPO makes API keys."))
    chosen = _check_scopes(scopes)
    plaintext = KEY_START + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        prefix=plaintext[: len(KEY_START) + PREFIX_LENGTH],
        key_sha256=key_digest(plaintext),
        scopes=chosen,
        created_by=user,
    )
    audit_record(
        key,
        AuditEntry.Action.CREATED,
        user=user,
        request=request,
        details=[{"field": "scopes", "old": "", "new": ", ".join(chosen)}],
    )
    return key, plaintext


@transaction.atomic
def api_key_revoke(*, key: ApiKey, user: User, request=None) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ValidationError(_("This key was already revoked."))
    key.revoked_at = timezone.now()
    key.revoked_by = user
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(key, AuditEntry.Action.REVOKED, user=user, request=request)
    return key


@cache
def _key_query() -> tuple[Rows, str]:
    rows = Rows(Part(ApiKey, "k"), Part(Organisation, "o"), Part(User, "u"))
    # Only column and table names from the models' _meta are put in; values go as params.
    return rows, (
        f"SELECT {rows.select} FROM {ApiKey._meta.db_table} k"  # noqa: S608
        f" JOIN {Organisation._meta.db_table} o ON o.id = k.organisation_id"
        f" JOIN {User._meta.db_table} u ON u.id = k.created_by_id"
        " WHERE k.key_sha256 = %s AND k.revoked_at IS NULL AND u.is_active"
        f" AND EXISTS (SELECT 1 FROM {Membership._meta.db_table} m WHERE m.user_id = u.id"
        " AND m.organisation_id = k.organisation_id AND m.role = %s)"
    )


def api_key_find(plaintext: str) -> ApiKey | None:
    """The active key with this text, with its organisation and maker, in one query.

    A key acts for the DPO who made it: once they are no longer the organisation's DPO (removed,
    or given another role), their keys stop working, as their pages do. (Hand-written: every
    API call makes this query, and the ORM took four times longer to compile it than to run it;
    accounts.rows builds the same instances.)"""
    if not plaintext.startswith(KEY_START) or len(plaintext) > 200:
        return None
    rows, sql = _key_query()
    found = rows.fetch(sql, [key_digest(plaintext), Role.DPO.value])
    if not found:
        return None
    key, organisation, user = found[0]
    key.organisation, key.created_by = organisation, user
    return key


def api_key_touch(key: ApiKey, *, now=None) -> None:
    """Record when a key was last used, at most once a minute (one UPDATE, no lock)."""
    now = now or timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
