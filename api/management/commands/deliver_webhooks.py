"""Send due webhook deliveries and retries where there is no Celery beat (cron, every minute)."""

from django.core.management.base import BaseCommand

from api.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due (new ones and retries)."

    def handle(self, *args, **options):
        tried = deliver_due()
        self.stdout.write(f"{tried} webhook deliveries tried.")
