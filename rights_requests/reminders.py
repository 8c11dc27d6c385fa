"""Deadline reminders (GDPR Art. 12(3)): e-mail to the handler and the organisation's DPOs.

Stages: due in 7 days, due in 2 days, due today, overdue. Celery beat runs ``reminders_send``
every morning (rights_requests.tasks). Each stage is sent once per request and due date: the
RequestReminder row (unique on request, stage and due date) is written in the same transaction
that queues the e-mail, so a second run, or two workers at once, send nothing more. A new due
date (an extension, a clock that stood still) starts the stages again.

A day beat does not run is caught up: the stage is the most urgent one the request has reached
(5 days left sends the 7-day reminder, 1 day left the 2-day one) and a stage already passed is
not sent late. Overdue is reminded once, not every day: the overdue request stays on the
dashboard, the deadlines page and the checklist until it is answered, and a daily e-mail about
the same request would teach people to ignore them.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.roles import Role

from .choices import ReminderStage
from .deadlines import REMINDER_DAYS
from .models import RequestReminder, RightsRequest


def stage_for(days_left: int) -> str | None:
    """The most urgent stage a request with ``days_left`` days to go has reached."""
    if days_left < 0:
        return ReminderStage.OVERDUE
    if days_left == 0:
        return ReminderStage.TODAY
    if days_left <= REMINDER_DAYS[ReminderStage.TWO_DAYS]:
        return ReminderStage.TWO_DAYS
    if days_left <= REMINDER_DAYS[ReminderStage.WEEK]:
        return ReminderStage.WEEK
    return None


def recipients(rights_request: RightsRequest) -> list[str]:
    """The handler and every DPO of the organisation, each address once."""
    addresses = []
    if rights_request.handled_by_id and rights_request.handled_by.is_active:
        addresses.append(rights_request.handled_by.email)
    dpos = Membership.objects.filter(
        organisation=rights_request.organisation, role=Role.DPO, user__is_active=True
    ).values_list("user__email", flat=True)
    for address in dpos:
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return addresses


def _email(rights_request: RightsRequest, stage: str, to: list[str], today: date) -> None:
    organisation = rights_request.organisation
    path = reverse(
        "rights_requests:detail", kwargs={"org_slug": organisation.slug, "pk": rights_request.pk}
    )
    with translation.override(organisation.default_language):
        subject = _("%(reference)s: %(stage)s (%(right)s)") % {
            "reference": rights_request.reference,
            "stage": ReminderStage(stage).label,
            "right": rights_request.get_right_display(),
        }
        body = render_to_string(
            "emails/request_reminder.txt",
            {
                "rr": rights_request,
                "organisation": organisation,
                "stage": ReminderStage(stage).label,
                "days_left": rights_request.days_left(today),
                "url": settings.SITE_URL.rstrip("/") + path,
            },
        )
    transaction.on_commit(lambda: send_mail(subject, body, None, to))


def reminders_send(*, today: date | None = None) -> int:
    """Send every reminder due ``today`` (default: today); the number of reminders sent."""
    today = today or timezone.localdate()
    sent = 0
    candidates = (
        RightsRequest.objects.running()
        .filter(current_due_on__lte=today + timedelta(days=REMINDER_DAYS[ReminderStage.WEEK]))
        .select_related("organisation", "handled_by")
        .order_by("pk")
    )
    for rights_request in candidates.iterator(chunk_size=500):
        stage = stage_for(rights_request.days_left(today))
        if stage is None:
            continue
        to = recipients(rights_request)
        with transaction.atomic():
            _reminder, created = RequestReminder.objects.get_or_create(
                request=rights_request,
                stage=stage,
                due_on=rights_request.current_due_on,
                defaults={"recipients": len(to), "sent_at": timezone.now()},
            )
            if created and to:
                _email(rights_request, stage, to, today)
        sent += created
    return sent
