"""The record as it stood on a date, rebuilt from the history tables."""

import datetime

import pytest
import time_machine

from processing import services
from processing.register import activity_as_of, end_of_day, register_as_of
from tests.consents.factories import PurposeFactory
from tests.processing.factories import activity, processor_record

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2026, 3, 1)


@pytest.fixture
def story(org, dpo):
    """Created on 10 Feb 2026; on 15 Mar the retention changed, a recipient left, a purpose
    was renamed and a second activity was made; on 20 Apr the first was retired."""
    with time_machine.travel("2026-02-10 10:00 +01:00", tick=False):
        purpose = PurposeFactory(organisation=org, name="Citas")
        first = activity(org, user=dpo, purposes=[{"purpose": purpose, "legal_basis": "consent"}])
        record = processor_record(org, user=dpo)
    with time_machine.travel("2026-03-15 10:00 +01:00", tick=False):
        services.activity_update(
            activity=first, data={"retention": "6 meses"}, recipients=[], user=dpo
        )
        purpose.name = "Recordatorios"
        purpose.save()
        second = activity(org, user=dpo, name="Marketing")
        services.processor_record_update(record=record, data={"name": "Soporte 2"}, user=dpo)
    with time_machine.travel("2026-04-20 10:00 +02:00", tick=False):
        services.activity_retire(activity=first, user=dpo)
    return {"first": first, "second": second, "record": record}


def test_the_record_on_1_march_is_the_record_as_it_stood(org, story):
    record = register_as_of(org, end_of_day(MARCH))

    (snapshot,) = record.activities
    assert snapshot.activity.pk == story["first"].pk
    assert snapshot.activity.retention == "12 meses después de la cita"
    assert [r.name for r in snapshot.recipients] == ["WhatsApp Ireland Ltd."]
    assert [p.name for p in snapshot.purposes] == ["Citas"]
    assert snapshot.changed_at.date() == datetime.date(2026, 2, 10)
    assert [p.record.name for p in record.processors] == ["Soporte informático para clínicas"]


def test_after_the_change_the_record_shows_the_new_values(org, story):
    record = register_as_of(org, end_of_day(datetime.date(2026, 3, 31)))

    first = next(s for s in record.activities if s.activity.pk == story["first"].pk)
    assert first.activity.retention == "6 meses" and first.recipients == []
    assert [p.name for p in first.purposes] == ["Recordatorios"]
    assert {s.activity.name for s in record.activities} == {"Recordatorio de citas", "Marketing"}
    assert [p.record.name for p in record.processors] == ["Soporte 2"]


def test_a_retired_activity_leaves_the_record_in_force_but_is_named(org, story):
    now = register_as_of(org)

    assert [s.activity.name for s in now.activities] == ["Marketing"]
    assert [a.pk for a in now.retired] == [story["first"].pk]


def test_before_anything_was_recorded_the_record_is_empty(org, story):
    record = register_as_of(org, end_of_day(datetime.date(2026, 1, 1)))

    assert record.activities == [] and record.processors == []
    assert activity_as_of(story["first"], end_of_day(datetime.date(2026, 1, 1))) is None


def test_the_end_of_a_day_is_in_the_register_time_zone(settings):
    moment = end_of_day(MARCH)

    assert moment.tzinfo is not None
    assert moment.isoformat().startswith("2026-03-01T23:59:59.999999+01:00")


def test_another_organisation_is_never_in_the_record(org, other_org, story, dpo):
    activity(other_org, user=dpo, name="Ajena")

    assert "Ajena" not in {s.activity.name for s in register_as_of(org).activities}
