from celery import shared_task


@shared_task(name="api.tasks.deliver_webhooks", acks_late=True, time_limit=600)
def deliver_webhooks() -> int:
    """New webhook deliveries and due retries (beat runs it every minute as well)."""
    from .webhooks import deliver_due

    return deliver_due()
