"""The register's pages through the real client (who may open which: access.py beside this)."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEntry
from rights_requests import services
from rights_requests.choices import RequestStatus, Right, SentVia, VerificationMethod
from rights_requests.models import RequestLetter, RightsRequest
from tests.consents.factories import DataSubjectFactory
from tests.rights_requests.factories import carried_out, logged_request, verified_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_letters")]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2027, 2, 10, 10, 0), tick=False):
        yield


@pytest.fixture
def person(org):
    return DataSubjectFactory(
        organisation=org, full_name="Ana Ruiz", phone="+34600111222", email="ana@example.org"
    )


def _url(name, org, *args):
    return reverse(f"rights_requests:{name}", args=[org.slug, *args])


def test_staff_log_a_whatsapp_request_from_a_phone(client_for, org, staff, person):
    client = client_for(staff)
    upload = SimpleUploadedFile("captura.pdf", b"%PDF-1.4\nhola\n", content_type="application/pdf")
    response = client.post(
        _url("log", org),
        {
            "phone": "600 11 12 22",
            "right": Right.ERASURE,
            "channel": "whatsapp",
            "received_on": "2027-01-31",
            "details": "Borren mis datos, por favor.",
            "language": "es",
            "files": [upload],
        },
    )
    rr = RightsRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("detail", org, rr.pk)
    assert (rr.subject, rr.current_due_on, rr.status) == (
        person,
        date(2027, 3, 1),
        RequestStatus.RECEIVED,
    )
    assert rr.attachments.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Borren mis datos" in page
    assert 'data-clock="running"' in page
    assert 'data-verified="yes"' in page


def test_a_bad_date_is_shown_on_the_form_and_nothing_is_logged(client_for, org, staff, person):
    response = client_for(staff).post(
        _url("log", org),
        {
            "phone": "600111222",
            "right": Right.ACCESS,
            "channel": "email",
            "received_on": "2027-03-01",
            "language": "es",
        },
    )
    assert response.status_code == 200
    assert "cannot have been received in the future" in response.content.decode()
    assert not RightsRequest.objects.exists()


def test_the_lookup_names_the_person_on_record(client_for, org, staff, person):
    response = client_for(staff).get(_url("log_lookup", org), {"phone": "+34 600 11 12 22"})
    assert 'data-testid="request-subject"' in response.content.decode()
    assert "Ana Ruiz" in response.content.decode()


def test_the_register_filters_overdue_and_searches_by_reference(client_for, org, auditor, person):
    overdue = verified_request(org, subject=person, received_on=date(2027, 1, 4))
    fresh = verified_request(org, subject=person, received_on=date(2027, 2, 9), right=Right.ERASURE)
    client = client_for(auditor)
    page = client.get(_url("list", org), {"when": "overdue"}).content.decode()
    assert overdue.reference in page and fresh.reference not in page
    assert "6 days overdue" in page
    page = client.get(_url("list", org), {"when": "all", "q": fresh.reference}).content.decode()
    assert fresh.reference in page and overdue.reference not in page


def test_the_register_as_it_stood_on_a_date(client_for, org, dpo, person):
    with time_machine.travel(datetime(2027, 2, 1, 10, 0), tick=False):
        rr = logged_request(org, subject=person, received_on=date(2027, 2, 1))
    services.request_withdrawn(rights_request=rr, user=dpo)
    client = client_for(dpo)
    now = client.get(_url("list", org), {"when": "open"}).content.decode()
    assert rr.reference not in now
    then = client.get(_url("list", org), {"when": "open", "as_of": "2027-02-05"}).content.decode()
    assert rr.reference in then
    assert 'data-status="identity"' in then
    assert 'data-testid="as-of"' in then


def test_the_deadlines_page_groups_by_urgency(client_for, org, staff, person):
    late = verified_request(org, subject=person, received_on=date(2027, 1, 4))
    soon = verified_request(org, subject=person, received_on=date(2027, 1, 15), right="erasure")
    response = client_for(staff).get(_url("deadlines", org))
    assert [r.pk for r in response.context["overdue"]] == [late.pk]
    assert [r.pk for r in response.context["due_week"]] == [soon.pk]


def test_the_detail_page_shows_the_stopped_clock_and_why(client_for, org, dpo, person):
    rr = logged_request(org, subject=person, received_on=date(2027, 2, 1))
    client = client_for(dpo)
    response = client.post(_url("clock_stop", org, rr.pk), {"reason": "Copia del DNI pedida."})
    assert response.status_code == 302
    page = client.get(_url("detail", org, rr.pk)).content.decode()
    assert 'data-clock="stopped"' in page
    assert "Copia del DNI pedida." in page
    client.post(_url("clock_restart", org, rr.pk))
    rr.refresh_from_db()
    assert rr.clock_stopped_on is None


def test_verifying_with_the_code_the_person_read(client_for, org, staff, person):
    from consents import services as consent_services
    from tests.consents.factories import PurposeFactory

    rr = logged_request(org, subject=person)
    PurposeFactory(organisation=org)
    link = consent_services.consent_link_for_subject(subject=person, created_by=None)
    code = services.request_identity_code_issue(rights_request=rr, link=link)
    client = client_for(staff)
    wrong = client.post(_url("verify", org, rr.pk), {"method": "one_time_code", "code": "000000"})
    if code != "000000":
        assert "not the code" in wrong.content.decode()
    response = client.post(_url("verify", org, rr.pk), {"method": "one_time_code", "code": code})
    assert response.status_code == 302
    rr.refresh_from_db()
    assert rr.identity_method == VerificationMethod.ONE_TIME_CODE


def test_an_extension_after_the_first_month_is_refused_on_the_form(client_for, org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 8))
    data = {"months": 2, "reason": "Complejo", "body": "Más tiempo.", "sent_via": "post"}
    response = client_for(dpo).post(_url("extend", org, rr.pk), data)
    assert response.status_code == 200
    assert "can no longer be extended" in response.content.decode()
    rr.refresh_from_db()
    assert rr.extension_months == 0


def test_an_extension_in_time_is_notified(client_for, org, dpo, person):
    rr = verified_request(org, subject=person, received_on=date(2027, 1, 31))
    data = {"months": 1, "reason": "Complejo", "body": "Más tiempo.", "sent_via": "whatsapp"}
    response = client_for(dpo).post(_url("extend", org, rr.pk), data)
    assert response.status_code == 302
    rr.refresh_from_db()
    assert (rr.status, rr.current_due_on) == (RequestStatus.EXTENDED, date(2027, 3, 31))
    assert rr.letters.get().sent_via == SentVia.WHATSAPP


def test_the_answer_form_refuses_a_right_not_carried_out(client_for, org, dpo, person):
    rr = verified_request(org, subject=person, right=Right.OBJECTION)
    client = client_for(dpo)
    form = client.get(_url("answer", org, rr.pk)).content.decode()
    assert 'data-testid="not-carried-out"' in form
    response = client.post(_url("answer", org, rr.pk), {"answer": "Hecho.", "sent_via": "post"})
    assert "Carry out the request first" in response.content.decode()
    carried_out(rr, dpo, summary="Retirados los consentimientos de marketing.")
    response = client.post(_url("answer", org, rr.pk), {"answer": "Hecho.", "sent_via": "post"})
    assert response.status_code == 302
    rr.refresh_from_db()
    assert rr.status == RequestStatus.ANSWERED
    page = client.get(_url("detail", org, rr.pk)).content.decode()
    assert "answered on time" in page


def test_the_erasure_answer_offers_the_art_17_3_exceptions(client_for, org, dpo, person):
    rr = verified_request(org, subject=person, right=Right.ERASURE)
    data = {"answer": "Conservamos la historia clínica.", "sent_via": "post"}
    data["erasure_exception"] = "legal_obligation"
    assert client_for(dpo).post(_url("answer", org, rr.pk), data).status_code == 302
    rr.refresh_from_db()
    assert rr.erasure_exception == "legal_obligation"
    other = verified_request(org, subject=person, right=Right.ACCESS)
    assert (
        "erasure_exception"
        not in client_for(dpo).get(_url("answer", org, other.pk)).context["form"].fields
    )


def test_refusing_and_withdrawn(client_for, org, dpo, person):
    client = client_for(dpo)
    rr = logged_request(org, subject=person)
    response = client.post(_url("reject", org, rr.pk), {"reason": "", "sent_via": "post"})
    assert response.status_code == 200
    response = client.post(_url("reject", org, rr.pk), {"reason": "Sin DNI.", "sent_via": "post"})
    assert response.status_code == 302
    other = logged_request(org, subject=person, right=Right.ERASURE)
    client.post(_url("withdrawn", org, other.pk), {"note": "Ya no lo quiere."})
    statuses = dict(RightsRequest.objects.values_list("pk", "status"))
    assert statuses == {rr.pk: RequestStatus.REJECTED, other.pk: RequestStatus.WITHDRAWN}


def test_assigning_a_handler(client_for, org, dpo, staff, person):
    rr = verified_request(org, subject=person)
    client_for(dpo).post(_url("assign", org, rr.pk), {"handler": staff.pk})
    rr.refresh_from_db()
    assert (rr.handled_by, rr.status) == (staff, RequestStatus.IN_PROGRESS)


def test_staff_write_an_acknowledgement_and_record_it_sent(client_for, org, staff, person):
    rr = logged_request(org, subject=person)
    client = client_for(staff)
    form = client.get(_url("letter_new", org, rr.pk), {"kind": "identity"})
    assert form.context["form"].initial["kind"] == "identity"
    response = client.post(
        _url("letter_new", org, rr.pk), {"kind": "acknowledgement", "body": "Recibida."}
    )
    letter = RequestLetter.objects.get()
    assert response["Location"] == _url("letter_send", org, rr.pk, letter.pk)
    client.post(response["Location"], {"sent_via": "whatsapp", "sent_to": "+34600111222"})
    letter.refresh_from_db()
    assert (letter.sent_via, letter.sent_to) == ("whatsapp", "+34600111222")


def test_an_attachment_downloads_as_an_attachment_and_is_on_record(
    client_for, org, auditor, person
):
    from consents.uploads import inspect_upload

    upload = inspect_upload(
        SimpleUploadedFile("carta.pdf", b"%PDF-1.4\ncarta\n", content_type="application/pdf")
    )
    rr = logged_request(org, subject=person, attachments=[upload])
    attachment = rr.attachments.get()
    response = client_for(auditor).get(_url("attachment", org, rr.pk, attachment.pk))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4\ncarta\n"
    assert AuditEntry.objects.filter(
        register="requestattachment", action=AuditEntry.Action.DOWNLOADED, user=auditor
    ).exists()


def test_an_auditor_reads_and_sees_no_action(client_for, org, auditor, person):
    rr = logged_request(org, subject=person)
    page = client_for(auditor).get(_url("detail", org, rr.pk)).content.decode()
    assert rr.reference in page
    for action in ('data-testid="verify"', 'data-testid="answer"', 'data-testid="extend"'):
        assert action not in page


def test_the_detail_page_shows_what_can_be_carried_out_for_its_right(client_for, org, dpo, person):
    rr = verified_request(org, subject=person)
    page = client_for(dpo).get(_url("detail", org, rr.pk)).content.decode()
    assert 'data-testid="fulfilment-panel"' in page
    assert reverse("rights_requests:fulfil_access", args=[org.slug, rr.pk]) in page


def test_the_organisation_form_sets_region_and_blocking_period(client_for, org, dpo):
    url = reverse("accounts:organisation_edit", args=[org.slug])
    form = client_for(dpo).get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"holiday_region": "MD", "blocking_years": 5})
    response = client_for(dpo).post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    org.refresh_from_db()
    assert (org.holiday_region, org.blocking_years) == ("MD", 5)


def test_the_dashboard_panel_counts(client_for, org, staff, dpo, person):
    verified_request(org, subject=person, received_on=date(2027, 1, 4))  # overdue
    verified_request(org, subject=person, received_on=date(2027, 1, 15), right="erasure")  # week
    late = verified_request(org, subject=person, received_on=date(2027, 1, 5), right="objection")
    carried_out(late, dpo)
    services.request_answer(rights_request=late, answer="Tarde.", user=dpo, sent_via="post")
    response = client_for(staff).get(reverse("accounts:dashboard", args=[org.slug]))
    (panel,) = [p for p in response.context["panels"] if "requests" in p["template"]]
    assert (panel["open"], panel["overdue"], panel["due_week"], panel["late_this_year"]) == (
        2,
        1,
        1,
        1,
    )
    assert 'data-testid="requests-panel"' in response.content.decode()


def test_the_nav_links_to_the_register(client_for, org, auditor):
    page = client_for(auditor).get(reverse("accounts:dashboard", args=[org.slug])).content
    assert _url("list", org).encode() in page
    assert _url("log", org).encode() not in page  # auditors do not log requests
