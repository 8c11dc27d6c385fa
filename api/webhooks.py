"""Webhooks out: a signed POST to the organisation's messaging tool as soon as a consent is
withdrawn or a number objects to marketing, so it stops at once.

Each change committed by consents.services (consents.signals) becomes one WebhookDelivery row
per subscribed webhook; deliver_due() POSTs what is due, each row claimed with a conditional
update so two workers never send one twice, and retries a failure with growing waits
(RETRY_AFTER) until it is answered 2xx or given up. The body is signed with the webhook's
secret: header ``Constancia-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
"""

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry, Organisation, User
from accounts.roles import Role
from accounts.services import audit_record
from consents import signals
from consents.choices import Action

from .models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

# Waits before each retry after a failed attempt: about a day in all, then given up.
RETRY_AFTER = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=15),
]
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
TIMEOUT_SECONDS = 5
CLAIM_FOR = timedelta(seconds=60)
SIGNATURE_HEADER = "Constancia-Signature"


# --- the DPO's settings -------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValidationError(_("Use an https:// address: a withdrawal names a phone number."))
    if not parts.hostname:
        raise ValidationError(_("Enter the full address of the endpoint."))
    return url


@transaction.atomic
def webhook_create(
    *, organisation: Organisation, url: str, events, user: User, request=None
) -> Webhook:
    if not user.memberships.filter(organisation=organisation, role=Role.DPO).exists():
        raise ValidationError(_("Only the organisation's DPO sets webhooks."))
    chosen = [e for e in Webhook.Event.values if e in set(events or ())]
    if not chosen:
        raise ValidationError(_("Choose at least one event."))
    hook = Webhook.objects.create(
        organisation=organisation,
        url=_check_url(url),
        events=chosen,
        secret="whsec_" + secrets.token_urlsafe(32),
        created_by=user,
    )
    audit_record(
        hook,
        AuditEntry.Action.CREATED,
        user=user,
        request=request,
        object_repr=hook.url,
        details=[{"field": "events", "old": "", "new": ", ".join(chosen)}],
    )
    return hook


@transaction.atomic
def webhook_disable(*, webhook: Webhook, user: User, request=None) -> Webhook:
    """Stop sending to it. The row and its delivery log stay (nothing is lost)."""
    if not webhook.active:
        raise ValidationError(_("This webhook is already switched off."))
    webhook.active = False
    webhook.save(update_fields=["active"])
    WebhookDelivery.objects.filter(webhook=webhook, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, last_error="webhook switched off"
    )
    audit_record(
        webhook, AuditEntry.Action.REVOKED, user=user, request=request, object_repr=webhook.url
    )
    return webhook


# --- what happened ------------------------------------------------------------------------


def _queue(organisation, event: str, payloads: list[dict]) -> None:
    hooks = [
        h
        for h in Webhook.objects.filter(organisation=organisation, active=True)
        if event in h.events
    ]
    if not hooks or not payloads:
        return
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=h, event=event, payload=p) for h in hooks for p in payloads]
    )
    transaction.on_commit(dispatch)


@receiver(signals.events_recorded, dispatch_uid="api.webhooks.withdrawn")
def _on_events(sender, organisation, events, **kwargs):
    withdrawn = [e for e in events if e.action == Action.WITHDRAWN]
    if not withdrawn:
        return
    phones = {e.subject_id: e.subject.phone for e in withdrawn}
    _queue(
        organisation,
        Webhook.Event.WITHDRAWN,
        [
            {
                "type": Webhook.Event.WITHDRAWN,
                "organisation": organisation.slug,
                "phone": phones[e.subject_id].as_e164 if phones[e.subject_id] else None,
                "subject": e.subject_id,
                "purpose": e.purpose.code,
                "sequence": e.sequence,
                "channel": e.channel,
                "captured_at": e.captured_at.isoformat(),
            }
            for e in withdrawn
        ],
    )


@receiver(signals.number_suppressed, dispatch_uid="api.webhooks.suppressed")
def _on_suppressed(sender, organisation, e164, reason, **kwargs):
    _queue(
        organisation,
        Webhook.Event.OBJECTED,
        [
            {
                "type": Webhook.Event.OBJECTED,
                "organisation": organisation.slug,
                "phone": e164,
                "reason": reason,
                "at": timezone.now().isoformat(),
            }
        ],
    )


# --- sending ------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(
        {"id": delivery.pk, "created_at": delivery.created_at.isoformat(), **delivery.payload},
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")
    request = urllib.request.Request(delivery.webhook.url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "Constancia-Webhooks/1")
    request.add_header("Constancia-Event", delivery.event)
    request.add_header("Constancia-Delivery", str(delivery.pk))
    request.add_header(SIGNATURE_HEADER, signature(delivery.webhook.secret, int(time.time()), body))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))[:300]


def _claim(pk: int, now) -> bool:
    return bool(
        WebhookDelivery.objects.filter(pk=pk, status=WebhookDelivery.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_FOR)
    )


def deliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """One attempt; the row says how it went and when the next one is due."""
    code, error = _post(delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = code
    delivery.claimed_until = None
    if code is not None and 200 <= code < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = error or f"HTTP {code}"
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.next_attempt_at = now + RETRY_AFTER[delivery.attempts - 1]
    delivery.save()
    return delivery


def deliver_due(*, limit: int = 200, now=None) -> int:
    """Send every delivery that is due (new ones and retries); returns how many were tried."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .select_related("webhook")
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    tried = 0
    for pk in due:
        if not _claim(pk, now):
            continue  # another worker has it
        deliver(WebhookDelivery.objects.select_related("webhook").get(pk=pk))
        tried += 1
    return tried


def dispatch() -> None:
    """Send what is due now, where the app's background work runs (jobs' JOBS_RUNNER): a Celery
    worker, a daemon thread of this process (the page does not wait for the tool's answer) or,
    in the test suite, right here."""
    runner = settings.JOBS_RUNNER
    if runner == "inline":
        deliver_due()
    elif runner == "thread":
        threading.Thread(target=_deliver_in_thread, name="webhooks", daemon=True).start()
    else:
        from .tasks import deliver_webhooks

        deliver_webhooks.delay()


def _deliver_in_thread() -> None:
    from django.db import connection

    try:
        deliver_due()
    except Exception:  # a thread has no one to tell: log it; beat or the command retries
        log.exception("webhook delivery failed")
    finally:
        connection.close()
