"""What the consent register tells other apps once a change is committed (never before: a
rolled-back withdrawal must not reach anyone). The api app's webhooks listen, so messaging tools
stop at once; consents imports no app that listens."""

from django.dispatch import Signal

# organisation, events: the ConsentEvent rows one committed append wrote.
events_recorded = Signal()
# organisation, e164, reason: a number put on the suppression list (GDPR Art. 21(3)).
number_suppressed = Signal()
