"""The deadline engine: when a rights request must be answered (GDPR Art. 12(3)).

A request is answered "without undue delay and in any event within one month of receipt of the
request"; "that period may be extended by two further months where necessary", telling the person
within the first month, with the reasons. Periods of time in EU law are counted by
Regulation (EEC, Euratom) No 1182/71, Art. 3:

- Art. 3(1): the day of receipt is not counted; a period in months starts the next day.
- Art. 3(2)(c): it ends at the end of the day, in the last month, that has the same date as the
  day of receipt; if that month has no such date, at the end of its last day.
- Art. 3(4): if that last day is a public holiday, a Saturday or a Sunday, the period ends at the
  end of the next working day.

Public holidays are Spain's national ones and, when the organisation has set its autonomous
community, that community's (the `holidays` library, ISO 3166-2:ES subdivision codes). Nothing
here reads the database or the clock: every function takes the dates it needs.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache

import holidays

# GDPR Art. 12(3): one month, and at most two further months.
ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2

# The reminder stages (days before the due date) sent to the handler and the DPOs; which one is
# due on a given day is rights_requests.reminders.stage_for (the most urgent stage reached).
REMINDER_DAYS = {"7d": 7, "2d": 2, "today": 0}

REGIONS = tuple(holidays.Spain.subdivisions)


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, or the last day of that month when it has no such date
    (Reg. 1182/71 Art. 3(2)(c)): 31 January + 1 month is 28 (or 29) February."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


@cache
def _holidays(year: int, region: str) -> holidays.HolidayBase:
    if region and region not in REGIONS:
        raise ValueError(f"Unknown Spanish region {region!r}; one of {', '.join(REGIONS)}")
    return holidays.country_holidays("ES", subdiv=region or None, years=year)


def holiday_name(day: date, region: str = "") -> str:
    """The public holiday on ``day`` (national or of ``region``), or ""."""
    return _holidays(day.year, region).get(day, "")


def is_working_day(day: date, region: str = "") -> bool:
    return day.weekday() < 5 and not holiday_name(day, region)


def next_working_day(day: date, region: str = "") -> date:
    """``day`` itself if it is a working day, else the first working day after it (Art. 3(4))."""
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def due_on(received_on: date, *, months: int = ANSWER_MONTHS, region: str = "") -> date:
    """The last day to answer a request received on ``received_on`` (GDPR Art. 12(3) counted by
    Reg. 1182/71 Art. 3): ``months`` calendar months later, moved off weekends and holidays."""
    if months < 1:
        raise ValueError("A period is at least one month.")
    return next_working_day(add_months(received_on, months), region)


def extended_due_on(received_on: date, *, extra_months: int, region: str = "") -> date:
    """The last day to answer after an extension by ``extra_months`` (1 or 2) further months."""
    if not 1 <= extra_months <= MAX_EXTENSION_MONTHS:
        raise ValueError("An extension is of one or two further months (GDPR Art. 12(3)).")
    return due_on(received_on, months=ANSWER_MONTHS + extra_months, region=region)


def shifted(received_on: date, days_stopped: int) -> date:
    """The day the clock counts from when it stood still ``days_stopped`` days (a request the law
    lets the organisation complete first, e.g. identity information asked for under Art. 12(6))."""
    return received_on + timedelta(days=max(days_stopped, 0))


def days_left(due: date, today: date) -> int:
    """Calendar days from ``today`` to ``due``: 0 on the due date, negative when overdue."""
    return (due - today).days
