"""Send today's rights-request deadline reminders (what the daily beat task does).

For installations without Redis (no beat): run it once a day from cron. Running it twice sends
nothing new: each stage is sent once per request and due date.
"""

from django.core.management.base import BaseCommand

from rights_requests.reminders import reminders_send


class Command(BaseCommand):
    help = "E-mail the reminders of rights requests due in 7 days, in 2 days, today or overdue."

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(f"{sent} reminder(s) sent")
