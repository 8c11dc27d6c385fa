"""Deadline reminders: once per stage and due date, to the handler and the DPOs."""

from datetime import date, datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from accounts.roles import Role
from rights_requests import reminders, services, tasks
from rights_requests.models import RequestReminder
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.consents.factories import DataSubjectFactory
from tests.rights_requests.factories import verified_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_letters")]


@pytest.fixture
def request_due_1_march(org, dpo, staff):
    """Received 31 January 2027, due Monday 1 March, handled by staff."""
    with time_machine.travel(datetime(2027, 2, 1, 9, 0), tick=False):
        rr = verified_request(
            org, subject=DataSubjectFactory(organisation=org), received_on=date(2027, 1, 31)
        )
        services.request_assign(rights_request=rr, handler=staff, user=dpo)
    return rr


def _run_on(day: date, captured) -> int:
    morning = datetime(day.year, day.month, day.day, 7, 30)
    with time_machine.travel(morning, tick=False), captured(execute=True):
        return tasks.send_deadline_reminders()


@pytest.mark.parametrize(
    ("left", "stage"),
    [(9, None), (8, None), (7, "7d"), (5, "7d"), (3, "7d"), (2, "2d"), (1, "2d"), (0, "today")],
)
def test_the_stage_is_the_most_urgent_one_reached(left, stage):
    assert reminders.stage_for(left) == stage
    assert reminders.stage_for(-1) == "overdue"


def test_each_stage_is_sent_once_to_the_handler_and_the_dpos(
    org, dpo, staff, request_due_1_march, django_capture_on_commit_callbacks
):
    second_dpo = UserFactory(email="dpo2@clinic.example")
    MembershipFactory(organisation=org, user=second_dpo, role=Role.DPO)
    days = {
        date(2027, 2, 21): 0,  # 8 days left: nothing yet
        date(2027, 2, 22): 1,  # 7 days
        date(2027, 2, 27): 1,  # 2 days (a Saturday: beat runs every day)
        date(2027, 3, 1): 1,  # due today
        date(2027, 3, 2): 1,  # overdue
        date(2027, 3, 3): 0,  # overdue is reminded once
    }
    sent = {day: _run_on(day, django_capture_on_commit_callbacks) for day in days}
    assert sent == days
    assert [r.stage for r in RequestReminder.objects.order_by("sent_at")] == [
        "7d",
        "2d",
        "today",
        "overdue",
    ]
    assert len(mail.outbox) == 4
    assert set(mail.outbox[0].to) == {staff.email, dpo.email, second_dpo.email}
    assert request_due_1_march.reference in mail.outbox[0].subject


def test_running_twice_on_one_day_sends_nothing_more(
    request_due_1_march, django_capture_on_commit_callbacks
):
    assert _run_on(date(2027, 2, 22), django_capture_on_commit_callbacks) == 1
    assert _run_on(date(2027, 2, 22), django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1


def test_a_missed_day_is_caught_up_with_the_stage_reached(
    request_due_1_march, django_capture_on_commit_callbacks
):
    # Beat did not run on 22 February: the 7-day reminder goes out on the 24th.
    assert _run_on(date(2027, 2, 24), django_capture_on_commit_callbacks) == 1
    assert RequestReminder.objects.get().stage == "7d"


def test_an_extension_starts_the_stages_again(
    org, dpo, request_due_1_march, django_capture_on_commit_callbacks
):
    _run_on(date(2027, 2, 22), django_capture_on_commit_callbacks)
    with time_machine.travel(datetime(2027, 2, 23, 9, 0), tick=False):
        services.request_extend(
            rights_request=request_due_1_march,
            months=1,
            reason="Complejo",
            user=dpo,
            sent_via="post",
        )
    assert _run_on(date(2027, 2, 24), django_capture_on_commit_callbacks) == 0
    # Due now 31 March: its 7-day reminder on the 24th.
    assert _run_on(date(2027, 3, 24), django_capture_on_commit_callbacks) == 1
    assert RequestReminder.objects.filter(due_on=date(2027, 3, 31), stage="7d").exists()


def test_closed_requests_and_stopped_clocks_are_not_reminded(
    org, dpo, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime(2027, 2, 1, 9, 0), tick=False):
        from tests.rights_requests.factories import logged_request

        stopped = logged_request(org, received_on=date(2027, 1, 31))
        services.request_stop_clock(rights_request=stopped, reason="DNI", user=dpo)
        closed = verified_request(org, received_on=date(2027, 1, 31))
        services.request_withdrawn(rights_request=closed, user=dpo)
    assert _run_on(date(2027, 3, 2), django_capture_on_commit_callbacks) == 0
    assert not mail.outbox


def test_beat_runs_the_reminders_every_day():
    entry = settings.CELERY_BEAT_SCHEDULE["rights-request-reminders-daily"]
    assert entry["task"] == "rights_requests.tasks.send_deadline_reminders"
    assert entry["schedule"].hour == {7} and entry["schedule"].day_of_week == set(range(7))
    assert tasks.send_deadline_reminders.name == entry["task"]


def test_the_command_sends_the_reminders_where_no_beat_runs(
    request_due_1_march, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with (
        time_machine.travel(datetime(2027, 2, 22, 7, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("send_deadline_reminders", stdout=out)
        call_command("send_deadline_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["1 reminder(s) sent", "0 reminder(s) sent"]
    assert len(mail.outbox) == 1
