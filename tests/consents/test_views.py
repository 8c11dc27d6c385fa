"""Consent pages through the real client: capture, subject, withdrawal, register, proofs."""

import csv
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEntry
from consents import services
from consents.acts import ConsentAct, Decision
from consents.models import Action, ConsentEvent, DataSubject, Proof, ProofFile
from tests.consents import factories
from tests.consents.factories import DataSubjectFactory, PurposeFactory, published_notice, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def purposes(org):
    marketing = PurposeFactory(organisation=org, code="marketing", name="Promociones")
    appointments = PurposeFactory(organisation=org, code="appointments", name="Citas")
    published_notice(purposes=[marketing, appointments], summary="Ofertas y citas por WhatsApp")
    return marketing, appointments


def url(name, org, **kwargs):
    return reverse(f"consents:{name}", kwargs={"org_slug": org.slug, **kwargs})


def photo(name="consent.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def capture_data(chosen, **overrides):
    data = {
        "phone": "600 12 34 56",
        "full_name": "Lucía Pérez Gómez",
        "kind": "customer",
        "language": "es",
        "purposes": [p.pk for p in chosen],
        "decision": "granted",
        "channel": "whatsapp",
        "captured_at": "2026-11-02T18:30",
        "quote": "Sí, acepto",
        "idempotency_key": "0f" * 16,
    }
    data.update(overrides)
    return data


def test_staff_log_a_consent_with_a_photo_and_get_a_receipt(client_for, org, staff, purposes):
    client = client_for(staff)
    response = client.post(url("capture", org), capture_data(purposes, files=photo()), follow=True)
    assert response.status_code == 200
    assert b'data-testid="receipt"' in response.content
    events = list(ConsentEvent.objects.order_by("sequence"))
    assert [e.action for e in events] == ["granted", "granted"]
    assert all(e.recorded_by == staff and e.notice_version for e in events)
    stored = ProofFile.objects.get()
    assert stored.content_type == "image/jpeg" and stored.file.name.startswith("proofs/")
    assert "consent" not in stored.file.name  # random name, nothing of the original
    assert "#1" in response.content.decode() and "#2" in response.content.decode()


def test_staff_acts_record_where_they_came_from(client_for, org, staff, purposes):
    # The ledger's proof of who acted from where holds for staff acts too, not only the person's.
    client = client_for(staff)
    where = {"REMOTE_ADDR": "192.0.2.44", "HTTP_USER_AGENT": "Reception desk browser"}
    client.post(url("capture", org), capture_data(purposes), **where)
    subject = ConsentEvent.objects.get(purpose=purposes[0]).subject
    client.post(
        url("withdraw", org, pk=subject.pk),
        {"purpose": purposes[0].pk, "channel": "phone_call"},
        **where,
    )
    events = list(ConsentEvent.objects.order_by("sequence"))
    assert [e.action for e in events] == ["granted", "granted", "withdrawn"]
    assert {(e.ip_address, e.user_agent) for e in events} == {
        ("192.0.2.44", "Reception desk browser")
    }


def test_a_double_submitted_capture_records_once(client_for, org, staff, purposes):
    client = client_for(staff)
    client.post(url("capture", org), capture_data(purposes))
    client.post(url("capture", org), capture_data(purposes))
    assert ConsentEvent.objects.count() == 2
    assert DataSubject.objects.count() == 1


def test_a_refusal_can_be_logged(client_for, org, staff, purposes):
    client_for(staff).post(url("capture", org), capture_data(purposes[:1], decision="refused"))
    assert ConsentEvent.objects.get().action == Action.REFUSED


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"phone": "600ABC123"}, "is not a phone number"),
        ({"phone": "600 12 34 56 ext. 7"}, "is not a phone number"),
        ({"purposes": []}, "Tick at least one purpose"),
        (
            {"files": SimpleUploadedFile("x.svg", b"<svg/>", content_type="image/svg+xml")},
            "not a JPEG, PNG or PDF",
        ),
        (
            {"files": SimpleUploadedFile("x.html", b"<html>", content_type="text/html")},
            "not a JPEG, PNG or PDF",
        ),
        ({"is_minor": "on"}, "parent or guardian consents"),
    ],
)
def test_bad_capture_input_gets_a_clear_message_and_stores_nothing(
    client_for, org, staff, purposes, overrides, message, settings
):
    response = client_for(staff).post(url("capture", org), capture_data(purposes, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ConsentEvent.objects.exists()
    assert not DataSubject.objects.exists()
    assert not Proof.objects.exists()
    media = settings.MEDIA_ROOT / "proofs"
    assert not media.exists() or not any(media.rglob("*.*"))


def test_an_oversize_photo_is_refused_and_nothing_stored(
    client_for, org, staff, purposes, settings
):
    settings.PROOF_MAX_BYTES = 100
    response = client_for(staff).post(url("capture", org), capture_data(purposes, files=photo()))
    assert "proof files may be at most" in response.content.decode()
    assert not ProofFile.objects.exists() and not ConsentEvent.objects.exists()


def test_the_lookup_finds_an_existing_person_by_any_phone_format(client_for, org, staff):
    DataSubjectFactory(organisation=org, full_name="Ana Ruiz", phone="+34600123456")
    response = client_for(staff).get(url("capture_lookup", org), {"phone": "0034 600-123-456"})
    assert "Ana Ruiz" in response.content.decode()
    response = client_for(staff).get(url("capture_lookup", org), {"phone": "611 00 00 00"})
    assert "New person" in response.content.decode()


def test_no_purpose_is_pre_ticked_on_the_capture_form(client_for, org, staff, purposes):
    body = client_for(staff).get(url("capture", org)).content.decode()
    assert 'name="purposes"' in body
    assert "checked" not in body.split('id="purposes-inner"')[1].split("</fieldset>")[0]


def _granted_subject(org, purposes):
    subject = DataSubjectFactory(organisation=org, full_name="María López", phone="+34611222333")
    notice = purposes[0].notices.get()
    services.consent_record(
        organisation=org,
        act=ConsentAct(
            subject=subject,
            decisions=[Decision(p, Action.GRANTED, notice) for p in purposes],
            channel="whatsapp",
        ),
    )
    return subject


def test_the_dpo_finds_a_person_by_another_phone_format_and_withdraws_one_purpose(
    client_for, org, dpo, purposes
):
    subject = _granted_subject(org, purposes)
    client = client_for(dpo)
    found = client.get(url("subjects", org), {"q": "611 22 23 33"}).content.decode()
    assert "María López" in found
    page = client.get(url("subject", org, pk=subject.pk)).content.decode()
    assert page.count('data-testid="timeline-event"') == 2
    response = client.post(
        url("withdraw", org, pk=subject.pk), {"purpose": purposes[0].pk, "channel": "phone_call"}
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.order_by("-sequence").first()
    assert (event.action, event.purpose, event.recorded_by) == ("withdrawn", purposes[0], dpo)
    assert services.ledger_verify_chain(organisation=org).ok


def test_withdrawing_another_organisations_purpose_is_not_found(
    client_for, org, other_org, dpo, purposes
):
    subject = _granted_subject(org, purposes)
    foreign = PurposeFactory(organisation=other_org)
    response = client_for(dpo).post(
        url("withdraw", org, pk=subject.pk), {"purpose": foreign.pk, "channel": "whatsapp"}
    )
    assert response.status_code == 404
    assert ConsentEvent.objects.count() == 2


def test_proof_files_download_only_as_attachments_and_are_audited(client_for, org, staff, purposes):
    client = client_for(staff)
    client.post(url("capture", org), capture_data(purposes, files=photo("form.jpg")))
    stored = ProofFile.objects.get()
    response = client.get(url("proof_file", org, pk=stored.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="downloaded", register="prooffile").exists()


def test_the_register_filters_and_searches_by_phone(client_for, org, auditor, purposes):
    _granted_subject(org, purposes)
    DataSubjectFactory(organisation=org, full_name="Otra Persona", phone="+34699000000")
    client = client_for(auditor)
    body = client.get(url("register", org), {"q": "+34 611 222 333"}).content.decode()
    assert body.count('data-testid="register-row"') == 2
    body = client.get(url("register", org), {"purpose": purposes[0].pk}).content.decode()
    assert body.count('data-testid="register-row"') == 1
    body = client.get(url("register", org), {"action": "withdrawn"}).content.decode()
    assert body.count('data-testid="register-row"') == 0


def test_the_register_csv_streams_and_neutralises_formulas(client_for, org, auditor, purposes):
    subject = _granted_subject(org, purposes)
    subject.full_name = '=HYPERLINK("http://evil.example","x")'
    subject.save()
    response = client_for(auditor).get(url("register_csv", org))
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "reference" and len(rows) == 3
    assert all(row[2].startswith("'=") for row in rows[1:])
    assert AuditEntry.objects.filter(action="exported").exists()


def test_the_dpo_drafts_publishes_and_cannot_then_edit_a_notice(client_for, org, dpo, purposes):
    client = client_for(dpo)
    response = client.post(
        url("notice_create", org),
        {
            "language": "en",
            "version": "2027-01",
            "title": "WhatsApp notice",
            "purposes": [purposes[0].pk],
            "summary": "We will send offers.",
            "text": "Controller, purposes, transfers to the US, retention, rights.",
        },
    )
    notice = purposes[0].notices.get(language="en")
    assert response.status_code == 302 and not notice.is_published
    client.post(url("notice_publish", org, pk=notice.pk))
    notice.refresh_from_db()
    assert notice.is_published and notice.sha256 == notice.content_digest()
    response = client.get(url("notice_edit", org, pk=notice.pk), follow=True)
    assert "cannot be changed" in response.content.decode()


def test_people_consented_under_a_superseded_notice_are_listed(client_for, org, dpo, purposes):
    _granted_subject(org, purposes)
    published_notice(purposes=[purposes[0]], version="v-new", text="Nuevo texto")
    body = client_for(dpo).get(url("reconsent", org)).content.decode()
    assert body.count('data-testid="reconsent-row"') == 1
    assert "Promociones" in body


def test_the_ledger_page_verifies_on_demand(client_for, org, dpo, purposes):
    _granted_subject(org, purposes)
    response = client_for(dpo).post(url("ledger", org), follow=True)
    assert "The ledger verifies" in response.content.decode()
    assert org.integrity_checks.get().ok


def test_the_dashboard_shows_coverage_and_the_last_check(client_for, org, staff, purposes):
    _granted_subject(org, purposes)
    services.ledger_verify(organisation=org)
    body = client_for(staff).get(reverse("accounts:dashboard", args=[org.slug])).content.decode()
    assert body.count('data-testid="coverage-row"') == 2
    assert "1 · 100%" in body
    assert "OK · 2 events" in body
    assert "no event since" in body


def test_a_purpose_for_employees_is_measured_against_the_employees(client_for, org, staff):
    # The testers saw an employees' group that every employee had joined at 2%: it was measured
    # against every person in the register, customers included.
    team = PurposeFactory(organisation=org, code="team", name="Equipo", audience="employee")
    notice = published_notice(purposes=[team], summary="Grupo del equipo")
    for employee in DataSubjectFactory.create_batch(
        2, organisation=org, kind=DataSubject.Kind.EMPLOYEE
    ):
        factories.grant(employee, team, notice)
    DataSubjectFactory(organisation=org, kind=DataSubject.Kind.EMPLOYEE)
    DataSubjectFactory.create_batch(5, organisation=org)
    client = client_for(staff)
    body = client.get(reverse("accounts:dashboard", args=[org.slug])).content.decode()
    assert "2 · 67%" in body
    assert "Of the 3 active people of the kind “Employee”" in body
    assert "Share of the 8 active people" in body
    client.cookies["django_language"] = "es"
    body = client.get(reverse("accounts:dashboard", args=[org.slug])).content.decode()
    assert "De las 3 personas activas del tipo «Empleado»" in body


def test_the_ledger_card_says_when_it_was_checked_and_how_many_events_came_since(
    client_for, org, staff, purposes
):
    # The testers saw "OK · 821 events" while the ledger held 829: a stored check is not current.
    subject = _granted_subject(org, purposes)
    with time_machine.travel("2026-11-02 09:00 +00:00", tick=False):
        services.ledger_verify(organisation=org)
    withdraw(subject, purposes[0], channel="whatsapp")
    with time_machine.travel("2026-11-05 09:00 +00:00", tick=False):
        body = client_for(staff).get(reverse("accounts:dashboard", args=[org.slug]))
    body = body.content.decode()
    assert "OK · 2 events" in body
    assert "1 event recorded since, not yet checked" in body
    assert "(3 days ago)" in body


def test_the_dpo_defines_a_purpose_and_a_duplicate_code_is_refused(client_for, org, dpo, purposes):
    client = client_for(dpo)
    data = {
        "code": "documents",
        "name": "Envío de documentos",
        "category": "documents",
        "legal_basis": "consent",
        "requires_consent": "on",
        "retention_months": 60,
        "active": "on",
    }
    assert client.post(url("purposes", org), data).status_code == 302
    response = client.post(url("purposes", org), data)
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert org.purposes.filter(code="documents").count() == 1
