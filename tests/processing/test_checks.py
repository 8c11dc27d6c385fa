"""The gaps the DPO is shown, each computed from the data (processing.checks)."""

import datetime

import pytest

from processing import checks, services
from processing.choices import Status
from tests.consents.factories import PurposeFactory
from tests.processing.factories import activity, processor_record

pytestmark = pytest.mark.django_db


def _kinds(org):
    return [f.kind for f in checks.findings(org)]


def test_a_complete_record_has_no_gaps(org, dpo):
    activity(org, user=dpo)

    assert checks.findings(org) == []


def test_a_purpose_with_no_activity_is_reported_and_then_no_longer(org, dpo):
    purpose = PurposeFactory(organisation=org, name="Promociones")
    PurposeFactory(organisation=org, name="Antigua", active=False)

    (finding,) = checks.findings(org)
    assert finding.kind == checks.PURPOSE_WITHOUT_ACTIVITY and "Promociones" in finding.message

    made = activity(org, user=dpo, purposes=[{"purpose": purpose, "legal_basis": "consent"}])
    assert checks.findings(org) == []
    services.activity_retire(activity=made, user=dpo)
    assert _kinds(org) == [checks.PURPOSE_WITHOUT_ACTIVITY]


def test_a_transfer_without_safeguard_is_reported(org, dpo):
    activity(org, user=dpo, transfers=[{"country": "India", "safeguard": ""}])

    (finding,) = checks.findings(org)
    assert finding.kind == checks.TRANSFER_WITHOUT_SAFEGUARD and "India" in finding.message


def test_a_recipient_abroad_with_no_transfer_is_reported(org, dpo):
    activity(
        org,
        user=dpo,
        recipients=[
            {"name": "Meta Platforms, Inc.", "kind": "sub_processor", "third_country": True}
        ],
        transfers=[],
    )

    assert _kinds(org) == [checks.TRANSFER_WITHOUT_SAFEGUARD]


def test_a_processor_record_transfer_without_safeguard_is_reported(org, dpo):
    record = processor_record(org, user=dpo)
    services.processor_record_update(
        record=record, data={}, transfers=[{"country": "Marruecos"}], user=dpo
    )

    assert _kinds(org) == [checks.TRANSFER_WITHOUT_SAFEGUARD]


def test_special_categories_need_an_art9_condition_on_every_purpose(org, dpo):
    made = activity(org, user=dpo, data_categories=["health"])
    assert _kinds(org) == [checks.SPECIAL_WITHOUT_CONDITION]

    line = made.purpose_lines.get()
    services.activity_update(
        activity=made,
        data={},
        purposes=[
            {
                "id": line.pk,
                "purpose": line.purpose,
                "legal_basis": "consent",
                "art9_condition": "a",
            }
        ],
        user=dpo,
    )
    assert checks.findings(org) == []


def test_a_free_special_category_counts_too(org, dpo):
    activity(org, user=dpo, special_categories_other="Datos de salud bucodental")

    assert _kinds(org) == [checks.SPECIAL_WITHOUT_CONDITION]


def test_a_missing_retention_is_reported_for_drafts_too(org, dpo):
    activity(org, user=dpo, retention="  ", status=Status.DRAFT)

    assert _kinds(org) == [checks.RETENTION_MISSING]


def test_a_dpia_needed_and_not_done_is_reported(org, dpo):
    made = activity(org, user=dpo, dpia_required=True)
    assert _kinds(org) == [checks.DPIA_MISSING]

    services.activity_update(
        activity=made, data={"dpia_done_on": datetime.date(2026, 3, 1)}, user=dpo
    )
    assert checks.findings(org) == []


def test_another_organisations_gaps_are_not_shown(org, other_org, dpo):
    PurposeFactory(organisation=other_org)

    assert checks.findings(org) == []


def test_the_dashboard_shows_the_gaps(client, org, dpo, staff):
    activity(org, user=dpo, retention="")
    client.force_login(staff)

    page = client.get(f"/o/{org.slug}/").content.decode()

    assert 'data-testid="ropa-panel"' in page
    assert "has no time limit for erasure" in page


def test_the_checklist_question_follows_the_record(org, dpo):
    from processing.checklist import record_complete

    assert record_complete(org)["status"] == "no"
    made = activity(org, user=dpo, retention="")
    assert record_complete(org)["status"] == "partly"
    assert record_complete(org)["figure"] == "1 gap in the record of processing"
    services.activity_update(activity=made, data={"retention": "2 años"}, user=dpo)
    answer = record_complete(org)
    assert answer["status"] == "yes" and answer["link"] == f"/o/{org.slug}/processing/"


def test_the_checklist_panel_shows_the_question(client, org, dpo):
    client.force_login(dpo)

    page = client.get(f"/o/{org.slug}/").content.decode()

    assert 'data-testid="checklist-10"' in page
    assert "Is every purpose in the record of processing" in page
