"""Audit trail (ARCHITECTURE invariant 6): who changed which register, when, from which IP.

django-simple-history keeps the full row as it stood after each change ("as it stood on date X");
its HistoryRequestMiddleware gives us the request, so the user and IP are recorded for changes made
in our pages and in the admin alike. Each historical row also becomes one AuditEntry, the feed the
"Activity" page filters by user and register.
"""

from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from .models import AuditEntry, Organisation
from .request_info import client_ip

_ACTIONS = {
    "+": AuditEntry.Action.CREATED,
    "~": AuditEntry.Action.CHANGED,
    "-": AuditEntry.Action.DELETED,
}


def _current_request():
    return getattr(HistoricalRecords.context, "request", None)


def organisation_id_of(instance) -> int | None:
    if isinstance(instance, Organisation):
        return instance.pk
    return getattr(instance, "organisation_id", None)


def _display(value) -> str:
    return "" if value is None else str(value)[:500]


def _changes(history_instance) -> list[dict]:
    previous = history_instance.prev_record
    if previous is None:
        return []
    delta = history_instance.diff_against(previous)
    return [
        {"field": change.field, "old": _display(change.old), "new": _display(change.new)}
        for change in delta.changes
    ]


@receiver(pre_create_historical_record)
def _stamp_ip_address(sender, history_instance, **kwargs):
    history_instance.history_ip_address = client_ip(_current_request())


@receiver(post_create_historical_record)
def _write_audit_entry(sender, instance, history_instance, **kwargs):
    action = _ACTIONS[history_instance.history_type]
    changes = _changes(history_instance) if action == AuditEntry.Action.CHANGED else []
    if action == AuditEntry.Action.CHANGED and not changes:
        return  # a save that changed nothing is not news
    AuditEntry.objects.create(
        organisation_id=organisation_id_of(instance),
        at=history_instance.history_date,
        user_id=history_instance.history_user_id,
        ip_address=history_instance.history_ip_address,
        register=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        changes=changes,
    )
