"""The demo clinic's record of processing: six activities linked to its purposes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from consents import demo as consents_demo
from consents.models import DataSubject, Purpose
from processing import checks, demo
from processing.exports import read_register
from processing.models import ProcessingActivity, ProcessorRecord
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    """The clinic with the consent demo's purposes and the groups demo's team purpose (their
    people and ledgers are not needed here)."""
    org = OrganisationFactory(slug="sonrisa", legal_name="Clínica Dental Sonrisa S.L.")
    MembershipFactory(organisation=org, role=Role.DPO, user=UserFactory(email="dpo@sonrisa.es"))
    for code, name, category, months, description in consents_demo.PURPOSES:
        Purpose.objects.create(
            organisation=org,
            code=code,
            name=name,
            category=category,
            retention_months=months,
            description=description,
        )
    Purpose.objects.create(
        organisation=org,
        code="group-team",
        name="Grupo «Equipo clínica»",
        category="group_membership",
        audience=DataSubject.Kind.EMPLOYEE,
    )
    demo.load(organisation=org)
    return org


def test_the_demo_ships_six_activities_linked_to_every_purpose(clinic):
    activities = ProcessingActivity.objects.filter(organisation=clinic)

    assert activities.count() == 6
    assert sorted(activities.values_list("reference", flat=True)) == [
        f"T-0{n}" for n in range(1, 7)
    ]
    linked = set(activities.values_list("purpose_lines__purpose__code", flat=True))
    assert linked == set(Purpose.objects.filter(organisation=clinic).values_list("code", flat=True))
    assert ProcessorRecord.objects.filter(organisation=clinic).count() == 1


def test_the_demo_checks_report_the_draft_left_without_retention(clinic):
    assert [(f.kind, "T-06" in f.message) for f in checks.findings(clinic)] == [
        (checks.RETENTION_MISSING, True)
    ]


def test_the_demo_record_as_it_stood_before_the_retention_change(clinic):
    before = read_register(clinic, timezone.localdate() - timedelta(days=90))
    now = read_register(clinic, None)

    def reminders(record):
        return next(s for s in record.activities if s.activity.reference == "T-02")

    assert reminders(before).activity.retention != reminders(now).activity.retention
    assert "6 meses" in reminders(now).activity.retention
    assert read_register(clinic, timezone.localdate() - timedelta(days=500)).activities == []


def test_the_demo_is_idempotent(clinic):
    assert "exist already" in demo.load(organisation=clinic)
    assert ProcessingActivity.objects.filter(organisation=clinic).count() == 6
