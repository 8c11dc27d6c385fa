"""The fulfilment pages and panel through the real client: the DPO carries out, others see."""

import pytest
from django.urls import reverse

from consents.models import ConsentState, DataSubject
from jobs.models import Job
from rights_requests.choices import Right
from tests.rights_requests.fulfil_factories import consenting_person, rights_request

pytestmark = pytest.mark.django_db

NAME = "Lucía Pérez"


@pytest.fixture
def person(org):
    return consenting_person(org, full_name=NAME)


def _url(name, request):
    url = reverse(f"rights_requests:{name}", args=[request.organisation.slug, request.pk])
    return url


def test_the_dpo_erases_through_the_form_and_the_panel_says_what_was_done(
    client_for, person, dpo, staff
):
    request = rights_request(person, Right.ERASURE)
    client = client_for(dpo)
    page = client.get(_url("fulfilment", request)).content.decode()
    assert 'data-testid="fulfil-button"' in page and "Erase…" in page
    form = client.get(_url("fulfil_erasure", request))
    assert form.status_code == 200 and 'name="confirm"' in form.content.decode()

    # Without the confirmation nothing happens.
    refused = client.post(_url("fulfil_erasure", request), {"exception": ""})
    assert refused.status_code == 200 and "Tick the box" in refused.content.decode()
    person.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE

    next_url = _url("fulfilment", request) + "?from=detail"
    done = client.post(_url("fulfil_erasure", request), {"confirm": "on", "next": next_url})
    assert done.status_code == 302 and done["Location"] == next_url
    person.refresh_from_db()
    assert person.status == DataSubject.Status.BLOCKED
    page = client.get(_url("fulfilment", request)).content.decode()
    assert 'data-testid="fulfilment-done"' in page and 'data-testid="fulfilment-blocked"' in page
    assert 'data-testid="fulfilment-withdrawn"' in page
    # The panel never shows the blocked person's name.
    assert NAME not in page
    # Staff see the same record, and no button.
    staff_page = client_for(staff).get(_url("fulfilment", request)).content.decode()
    assert 'data-testid="fulfilment-done"' in staff_page and "fulfil-button" not in staff_page


def test_staff_and_auditors_see_what_would_happen_but_cannot_carry_it_out(
    client_for, person, staff, auditor
):
    request = rights_request(person, Right.OBJECTION)
    for member in (staff, auditor):
        client = client_for(member)
        page = client.get(_url("fulfilment", request)).content.decode()
        assert "Only the data protection officer" in page and "fulfil-button" not in page
        assert client.post(_url("fulfil_objection", request)).status_code == 403
    assert ConsentState.objects.filter(subject=person, action="granted").count() == 2


def test_an_unverified_request_shows_why_it_waits_and_offers_no_button(client_for, person, dpo):
    request = rights_request(person, Right.RECTIFICATION, verified=False)
    client = client_for(dpo)
    page = client.get(_url("fulfilment", request)).content.decode()
    assert "not verified yet" in page and "fulfil-button" not in page
    form_page = client.get(_url("fulfil_rectification", request)).content.decode()
    assert "not verified yet" in form_page and 'name="full_name"' not in form_page
    client.post(_url("fulfil_rectification", request), {"full_name": "Otra", "phone": "612345678"})
    person.refresh_from_db()
    assert person.full_name == NAME


def test_the_dpo_rectifies_and_the_panel_lists_the_recipients(client_for, person, dpo):
    request = rights_request(person, Right.RECTIFICATION)
    client = client_for(dpo)
    form_page = client.get(_url("fulfil_rectification", request)).content.decode()
    assert f'value="{NAME}"' in form_page
    response = client.post(
        _url("fulfil_rectification", request),
        {
            "full_name": "Lucía Pérez Gil",
            "phone": "612 34 56 78",
            "email": "",
            "preferred_language": "es",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.full_name == "Lucía Pérez Gil"
    request.refresh_from_db()
    assert request.carried_out["fields"] == ["full_name"]
    bad = client.post(
        _url("fulfil_rectification", rights_request(person, Right.RECTIFICATION)),
        {"full_name": "X", "phone": "600ABC", "preferred_language": "es"},
    )
    assert bad.status_code == 200 and "not a phone number" in bad.content.decode()


def test_restriction_is_set_by_form_and_lifted_from_the_panel(client_for, person, dpo):
    request = rights_request(person, Right.RESTRICTION)
    client = client_for(dpo)
    client.post(_url("fulfil_restriction", request), {"ground": "accuracy", "note": "Dice que no"})
    person.refresh_from_db()
    assert person.status == DataSubject.Status.RESTRICTED
    page = client.get(_url("fulfilment", request)).content.decode()
    assert "Lift the restriction" in page
    client.post(_url("fulfil_restriction_lift", request), {"reason": ""})
    person.refresh_from_db()
    assert person.status == DataSubject.Status.RESTRICTED
    client.post(_url("fulfil_restriction_lift", request), {"reason": "Comprobado"})
    person.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE
    page = client.get(_url("fulfilment", request)).content.decode()
    assert 'data-testid="restriction-lifted"' in page and "Comprobado" in page


def test_objection_and_withdrawal_are_one_post_each(client_for, person, dpo):
    client = client_for(dpo)
    objection = rights_request(person, Right.OBJECTION)
    client.post(_url("fulfil_objection", objection), {"next": "https://evil.example/"})
    states = dict(
        ConsentState.objects.filter(subject=person).values_list("purpose__code", "action")
    )
    assert states == {"offers": "withdrawn", "citas": "granted"}
    again = client.post(_url("fulfil_objection", objection), follow=True)
    assert "carried out already" in again.content.decode()
    assert again.redirect_chain[-1][0] == _url("fulfilment", objection)  # not the outside URL
    withdrawal = rights_request(person, Right.WITHDRAWAL)
    client.post(_url("fulfil_withdrawal", withdrawal))
    assert not ConsentState.objects.filter(subject=person, action="granted").exists()


def test_the_access_copy_is_started_from_the_panel_and_downloaded_from_it(
    client_for, person, dpo, auditor, django_capture_on_commit_callbacks
):
    request = rights_request(person, Right.ACCESS)
    client = client_for(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("fulfil_access", request))
    assert response.status_code == 302
    job = Job.objects.get(kind="access")
    assert job.status == Job.Status.DONE and job.description == request.reference
    for member in (dpo, auditor):
        page = client_for(member).get(_url("fulfilment", request)).content.decode()
        assert reverse("jobs:download", args=[request.organisation.slug, job.pk]) in page
    download = client_for(auditor).get(
        reverse("jobs:download", args=[request.organisation.slug, job.pk])
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


def test_a_form_page_for_another_right_sends_back(client_for, person, dpo):
    request = rights_request(person, Right.ACCESS)
    response = client_for(dpo).get(_url("fulfil_erasure", request))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == DataSubject.Status.ACTIVE
