"""Due dates by GDPR Art. 12(3) counted as Reg. 1182/71 Art. 3 says, with Spanish holidays."""

from datetime import date

import pytest

from rights_requests import deadlines
from rights_requests.deadlines import due_on, extended_due_on


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # The same date one month later, a working day.
        (date(2027, 3, 10), date(2027, 4, 12)),  # 10 April 2027 is a Saturday -> Monday 12
        (date(2027, 2, 15), date(2027, 3, 15)),  # Monday: stays
        # 31 January: February has no 31st, so its last day; 28 Feb 2027 is a Sunday -> 1 March.
        (date(2027, 1, 31), date(2027, 3, 1)),
        # A leap year: 29 February 2028 is a Tuesday.
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2027, 1, 30), date(2027, 3, 1)),
        # 31 March -> 30 April (a Friday in 2027).
        (date(2027, 3, 31), date(2027, 4, 30)),
        # Received on Constitution Day: due on the Epiphany (6 January), a national holiday,
        # so the next working day.
        (date(2026, 12, 6), date(2027, 1, 7)),
        # 1 May is a national holiday (Labour Day, a Saturday in 2027) -> Monday 3 May.
        (date(2027, 4, 1), date(2027, 5, 3)),
        # 12 October (National Day, Tuesday 2027) -> Wednesday 13.
        (date(2027, 9, 12), date(2027, 10, 13)),
        # Christmas Day on a Saturday (2027) -> Monday 27 December.
        (date(2027, 11, 25), date(2027, 12, 27)),
    ],
)
def test_a_request_is_due_one_month_later_on_a_working_day(received, due):
    assert due_on(received) == due
    assert deadlines.is_working_day(due)


def test_the_regional_holidays_count_where_the_organisation_has_set_its_community():
    # 19 April 2027 is a Monday, an ordinary day in Madrid...
    assert due_on(date(2027, 3, 19), region="MD") == date(2027, 4, 19)
    # ...while 23 April is Saint George's Day in Aragón (and a Friday): due Monday 26 April.
    assert due_on(date(2027, 3, 23)) == date(2027, 4, 23)
    assert due_on(date(2027, 3, 23), region="AR") == date(2027, 4, 26)
    # Catalonia's 11 September (a Saturday in 2027) changes nothing; its 24 June (Thursday) does.
    assert due_on(date(2027, 5, 24)) == date(2027, 6, 24)
    assert due_on(date(2027, 5, 24), region="CT") == date(2027, 6, 25)


def test_an_unknown_region_is_refused_not_ignored():
    with pytest.raises(ValueError, match="Unknown Spanish region"):
        due_on(date(2027, 1, 4), region="XX")


def test_an_extension_adds_one_or_two_months_from_the_day_of_receipt():
    assert extended_due_on(date(2027, 1, 31), extra_months=2) == date(2027, 4, 30)
    assert extended_due_on(date(2027, 1, 31), extra_months=1) == date(2027, 3, 31)
    for bad in (0, 3):
        with pytest.raises(ValueError, match="one or two further months"):
            extended_due_on(date(2027, 1, 31), extra_months=bad)


def test_the_clock_that_stood_still_moves_the_start():
    start = deadlines.shifted(date(2027, 2, 1), 5)
    assert start == date(2027, 2, 6)
    assert due_on(start) == date(2027, 3, 8)  # 6 March 2027 is a Saturday
