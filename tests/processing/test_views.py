"""The pages a DPO uses: from a template to an edited, checked, exported activity."""

import io

import pytest
import time_machine
from openpyxl import load_workbook

from jobs.models import Job
from processing.models import ProcessingActivity
from tests.consents.factories import PurposeFactory
from tests.processing.factories import activity, processor_record

pytestmark = pytest.mark.django_db


def _formset(prefix, rows, extra=1):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows) + extra),
        f"{prefix}-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value not in (False, None):
                data[f"{prefix}-{number}-{key}"] = value
    return data


def _edit_data(activity, **changes):
    """What the edit page posts back for ``activity`` unchanged, with ``changes``."""
    data = {
        "reference": activity.reference,
        "name": activity.name,
        "status": activity.status,
        "owner": activity.owner_id or "",
        "retention": activity.retention,
        "systems": activity.systems,
        "subject_categories": activity.subject_categories,
        "data_categories": activity.data_categories,
        "security_measures": activity.security_measures,
    }
    purposes = list(activity.purpose_lines.values("id", "purpose", "legal_basis", "art9_condition"))
    recipients = list(activity.recipients.values("id", "name", "kind", "country", "third_country"))
    transfers = list(
        activity.transfers.values("id", "country", "recipient", "safeguard", "document")
    )
    lists = {"purposes": purposes, "recipients": recipients, "transfers": transfers}
    for name in lists:
        lists[name] = changes.pop(name, lists[name])
    data |= changes
    for name, rows in lists.items():
        data |= _formset(name, rows)
    return data


def test_a_dpo_adds_an_activity_from_a_template_edits_it_and_sees_it_in_the_record(
    client, org, dpo
):
    purpose = PurposeFactory(organisation=org, category="appointments", name="Citas")
    client.force_login(dpo)
    new = client.get(f"/o/{org.slug}/processing/new/").content.decode()
    assert 'data-testid="template-appointment-reminders"' in new and "Citas" in new

    response = client.post(f"/o/{org.slug}/processing/new/", {"template": "appointment-reminders"})

    made = ProcessingActivity.objects.get(organisation=org)
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/processing/{made.pk}/edit/"
    edit = client.get(response["Location"]).content.decode()
    assert 'name="purposes-0-purpose"' in edit and made.retention in edit
    response = client.post(
        response["Location"],
        _edit_data(made, status="active", reference="T-02", retention="6 meses"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    made.refresh_from_db()
    assert made.status == "active" and made.retention == "6 meses" and made.reference == "T-02"
    assert list(made.purposes.all()) == [purpose]
    assert made.recipients.count() == 2 and made.transfers.count() == 1

    page = client.get(f"/o/{org.slug}/processing/").content.decode()
    assert "6 meses" in page and 'data-testid="no-findings"' in page
    detail = client.get(f"/o/{org.slug}/processing/{made.pk}/").content.decode()
    assert dpo.display_name in detail and "retention" in detail


def test_a_spare_row_left_empty_is_ignored_and_a_row_can_be_removed(client, org, dpo):
    made = activity(org, user=dpo)
    client.force_login(dpo)
    data = _edit_data(made)
    data["recipients-0-DELETE"] = "on"

    response = client.post(f"/o/{org.slug}/processing/{made.pk}/edit/", data)

    assert response.status_code == 302
    assert made.recipients.count() == 0 and made.purpose_lines.count() == 1


def test_a_bad_row_is_answered_with_a_message_and_changes_nothing(client, org, dpo):
    made = activity(org, user=dpo)
    line = made.purpose_lines.get()
    client.force_login(dpo)
    data = _edit_data(
        made,
        retention="otra",
        purposes=[{"id": line.pk, "purpose": line.purpose_id, "legal_basis": ""}],
    )

    response = client.post(f"/o/{org.slug}/processing/{made.pk}/edit/", data)

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    made.refresh_from_db()
    assert made.retention == "12 meses después de la cita"


def test_the_register_shows_the_gaps_and_the_record_as_it_stood(client, org, dpo, staff):
    with time_machine.travel("2026-02-10 10:00 +01:00", tick=False):
        made = activity(org, user=dpo, retention="")
    with time_machine.travel("2026-03-15 10:00 +01:00", tick=False):
        from processing import services

        services.activity_update(activity=made, data={"retention": "24 meses"}, user=dpo)
        PurposeFactory(organisation=org, name="Sin actividad")
    client.force_login(staff)

    now = client.get(f"/o/{org.slug}/processing/").content.decode()
    before = client.get(f"/o/{org.slug}/processing/?as_of=2026-03-01").content.decode()
    detail = client.get(f"/o/{org.slug}/processing/{made.pk}/?as_of=2026-03-01").content.decode()
    never = client.get(f"/o/{org.slug}/processing/{made.pk}/?as_of=2026-01-01").content.decode()

    assert 'data-testid="finding-purpose_without_activity"' in now and "24 meses" in now
    assert 'data-testid="as-of-banner"' in before and "24 meses" not in before
    assert 'data-testid="findings"' not in before
    assert "none recorded" in detail and 'data-testid="as-of-banner"' in detail
    assert 'data-testid="not-yet"' in never
    assert "New activity" not in now  # staff read the record, the DPO keeps it


def test_retiring_from_the_page(client, org, dpo):
    made = activity(org, user=dpo)
    client.force_login(dpo)

    client.post(f"/o/{org.slug}/processing/{made.pk}/retire/")

    made.refresh_from_db()
    assert made.is_retired
    response = client.get(f"/o/{org.slug}/processing/{made.pk}/edit/")
    assert response.status_code == 302
    assert (
        made.name
        not in client.get(f"/o/{org.slug}/processing/").content.decode().split("Retired:")[0]
    )


def test_an_export_from_the_page_is_a_job_whose_file_downloads(
    client, org, dpo, auditor, django_capture_on_commit_callbacks
):
    activity(org, user=dpo)
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/o/{org.slug}/processing/export/",
            {"file_format": "xlsx", "as_of": "", "language": "en"},
        )

    assert response.status_code == 302 and response["Location"] == f"/o/{org.slug}/exports/"
    job = Job.objects.get(kind="ropa")
    assert job.status == Job.Status.DONE and job.requested_by == auditor
    listing = client.get(response["Location"]).content.decode()
    assert "Record of processing activities" in listing
    download = client.get(f"/o/{org.slug}/exports/{job.pk}/download/")
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert len(book.sheetnames) == 9


def test_a_bad_export_request_changes_nothing(client, org, dpo):
    client.force_login(dpo)

    client.post(f"/o/{org.slug}/processing/export/", {"file_format": "docx", "language": "en"})

    assert not Job.objects.exists()


def test_processor_records_are_created_and_shown(client, org, dpo):
    client.force_login(dpo)
    data = {"name": "Soporte IT", "status": "active", "owner": ""}
    data |= _formset(
        "controllers",
        [{"name": "Clínica Sur", "contact": "sur@example.org", "processing": "Copias"}],
    )
    data |= _formset("transfers", [{"country": "India", "safeguard": ""}])

    response = client.post(f"/o/{org.slug}/processing/processors/new/", data)

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Clínica Sur" in page and "no safeguard" in page
    register = client.get(f"/o/{org.slug}/processing/").content.decode()
    assert 'data-testid="finding-transfer_without_safeguard"' in register


def test_a_processor_record_shows_its_history(client, org, dpo):
    record = processor_record(org, user=dpo)
    client.force_login(dpo)

    page = client.get(f"/o/{org.slug}/processing/processors/{record.pk}/").content.decode()

    assert "Clínica Dental Norte S.L." in page and dpo.display_name in page


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_pages_render_in_every_language(client, org, dpo, language):
    made = activity(org, user=dpo)
    client.force_login(dpo)
    client.cookies["django_language"] = language

    for url in (
        f"/o/{org.slug}/processing/",
        f"/o/{org.slug}/processing/new/",
        f"/o/{org.slug}/processing/processors/",
        f"/o/{org.slug}/processing/{made.pk}/",
        f"/o/{org.slug}/processing/{made.pk}/edit/",
    ):
        page = client.get(url).content.decode()
        assert f'<html lang="{language}"' in page, url
    # The letters of Art. 30(1) keep their brackets the right way round in Arabic too.
    assert '<bdi dir="ltr">(a)</bdi>' in page


def test_the_navigation_links_the_record_for_every_role(client, org, cast):
    for role in ("dpo", "staff", "auditor"):
        client.force_login(cast[role])
        page = client.get(f"/o/{org.slug}/").content.decode()
        assert f'href="/o/{org.slug}/processing/"' in page, role


def test_every_date_picker_ignores_nonsense(client, org, dpo):
    client.force_login(dpo)

    page = client.get(f"/o/{org.slug}/processing/?as_of=yesterday")

    assert page.status_code == 200 and 'data-testid="as-of-banner"' not in page.content.decode()
