"""The REST API, call by call: what it answers, and that a refused call writes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from accounts.models import AuditEntry
from api.models import ApiKey
from api.scopes import Scope
from api.serializers import EventRefSerializer
from consents.models import ConsentEvent, DataSubject, Proof, ProofFile, SuppressedNumber
from consents.services import suppression_add
from rights_requests.models import RightsRequest
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

from .factories import api_client, jpeg_bytes, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers(org):
    return PurposeFactory(organisation=org, code="offers", name="Ofertas")


@pytest.fixture
def notice(offers):
    return published_notice(purposes=[offers], language="es")


@pytest.fixture
def api(org, dpo):
    return api_client(make_key(org, dpo)[1])


def record(api, **fields):
    body = {"phone": "612 34 56 78", "full_name": "Lucía Pérez", "purposes": ["offers"]}
    body |= {"channel": "whatsapp", "quote": "Sí, acepto"} | fields
    headers = {}
    if "idempotency" in body:
        headers["HTTP_IDEMPOTENCY_KEY"] = body.pop("idempotency")
    return api.post("/api/v1/events/", body, content_type="application/json", **headers)


def check(api, phone, purpose="offers"):
    return api.get("/api/v1/consent-check/", {"phone": phone, "purpose": purpose})


def test_no_key_is_401_with_the_scheme_named(client):
    response = client.get("/api/v1/purposes/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_an_unknown_or_revoked_key_is_401(org, dpo):
    key, plaintext = make_key(org, dpo)
    assert api_client(plaintext + "x").get("/api/v1/purposes/").status_code == 401
    assert api_client("cst_" + "a" * 43).get("/api/v1/purposes/").status_code == 401
    assert api_client(plaintext).get("/api/v1/purposes/").status_code == 200
    key.revoked_at = key.created_at
    key.save()
    assert api_client(plaintext).get("/api/v1/purposes/").status_code == 401


def test_the_key_is_stored_only_as_its_digest_and_its_use_is_timed(org, dpo):
    key, plaintext = make_key(org, dpo)
    stored = ApiKey.objects.get(pk=key.pk)
    assert plaintext not in str(stored.__dict__)
    assert plaintext.startswith(stored.prefix) and len(plaintext) > 40
    assert stored.last_used_at is None
    api_client(plaintext).get("/api/v1/purposes/")
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    entry = AuditEntry.objects.get(register="apikey", object_id=str(key.pk))
    assert entry.action == AuditEntry.Action.CREATED and entry.user == dpo


def test_a_key_without_the_scope_is_403(org, dpo, offers):
    _key, plaintext = make_key(org, dpo, scopes=[Scope.REGISTERS_READ])
    api = api_client(plaintext)
    assert api.get("/api/v1/purposes/").status_code == 200
    assert check(api, "612345678").status_code == 403
    assert record(api).status_code == 403
    assert not ConsentEvent.objects.exists()


def test_consent_check_answers_from_the_ledger_in_any_phone_format(api, org, offers, notice):
    assert check(api, "612 34 56 78").json()["allowed"] is False
    assert check(api, "612 34 56 78").json()["reason"] == "no_consent"
    created = record(api)
    assert created.status_code == 201, created.content
    for typed in ("+34612345678", "0034 612-345-678", "612.34.56.78"):
        answer = check(api, typed).json()
        assert answer["allowed"] is True, typed
        assert answer["reason"] == "consented"
        assert answer["e164"] == "+34612345678"
        assert answer["event"]["sequence"] == created.json()["events"][0]["sequence"]
        assert answer["event"]["action"] == "granted"
        assert answer["event"]["notice_version"] == notice.version


def test_the_check_names_its_event_as_the_event_serializer_does(api, offers, notice):
    record(api)
    answer = check(api, "612345678").json()["event"]
    assert answer == dict(EventRefSerializer(ConsentEvent.objects.get()).data)
    assert answer["notice_version"] == notice.version


def test_consent_check_says_no_for_blocked_restricted_and_suppressed_numbers(
    api, org, offers, notice
):
    blocked = DataSubjectFactory(organisation=org, phone="+34611111111")
    grant(blocked, offers, notice)
    blocked.status, blocked.blocked_at, blocked.purge_after = (
        "blocked",
        blocked.created_at,
        "2030-01-01",
    )
    blocked.save()
    DataSubjectFactory(organisation=org, phone="+34622222222", status="restricted")
    assert check(api, "611111111").json()["reason"] == "blocked"
    assert check(api, "622222222").json()["reason"] == "restricted"
    answer = check(api, "633333333").json()
    assert (answer["allowed"], answer["reason"]) == (False, "no_consent")
    suppression_add(
        organisation=org,
        phone=DataSubject(phone="+34633333333").phone,
        reason=SuppressedNumber.Reason.OBJECTION,
        request_pk=None,
        user=None,
    )
    assert check(api, "633333333").json()["reason"] == "suppressed"


def test_consent_check_refuses_bad_input_with_field_errors(api, offers):
    response = check(api, "612ABC")
    assert response.status_code == 400
    assert "phone" in response.json()
    response = check(api, "612345678", purpose="nope")
    assert response.status_code == 400 and "purpose" in response.json()
    assert api.get("/api/v1/consent-check/").status_code == 400


def test_a_null_character_anywhere_is_a_400_that_names_the_field(api, offers, notice):
    # PostgreSQL refuses NUL in text; the API must say so before a query fails (found by
    # schemathesis on PostgreSQL, where it was a 500).
    said = [str(_("Null characters are not allowed."))]
    response = api.get("/api/v1/consent-states/", {"purpose": "off\x00ers"})
    assert response.status_code == 400 and response.json() == {"purpose": said}
    response = check(api, "612345678", purpose="off\x00ers")
    assert response.status_code == 400 and response.json() == {"purpose": said}
    response = record(api, purposes=["off\x00ers"])
    assert response.status_code == 400 and response.json() == {"purposes": {"0": said}}
    assert not ConsentEvent.objects.exists()


def test_the_batch_check_answers_each_number_in_order(api, offers, notice):
    record(api)
    phones = ["+34 612 34 56 78", "not a phone", "699000000", "612345678"]
    response = api.post(
        "/api/v1/consent-check/",
        {"purpose": "offers", "phones": phones},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["phone"] for r in body["results"]] == phones
    assert [r["allowed"] for r in body["results"]] == [True, False, False, True]
    assert body["results"][1]["reason"] == "invalid_phone" and body["results"][1]["message"]
    assert body["allowed"] == 2


def test_the_batch_check_takes_at_most_1000_numbers(api, offers):
    response = api.post(
        "/api/v1/consent-check/",
        {"purpose": "offers", "phones": ["612345678"] * 1001},
        content_type="application/json",
    )
    assert response.status_code == 400 and "phones" in response.json()


def test_recording_twice_with_one_idempotency_key_makes_one_event(api, offers, notice):
    first = record(api, idempotency="order-77")
    again = record(api, idempotency="order-77")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] is True
    assert again.json()["events"] == first.json()["events"]
    assert ConsentEvent.objects.count() == 1
    assert record(api, idempotency="order-78").status_code == 201
    assert ConsentEvent.objects.count() == 2


def test_an_idempotency_key_sent_again_for_another_act_is_refused(api, offers, notice):
    PurposeFactory(organisation=offers.organisation, code="news")
    assert record(api, idempotency="order-79").status_code == 201
    for other in (
        {"phone": "699 00 00 00"},
        {"purposes": ["offers", "news"]},
        {"action": "refused"},
    ):
        response = record(api, idempotency="order-79", **other)
        assert response.status_code == 400 and "Idempotency-Key" in response.json(), other
    assert ConsentEvent.objects.count() == 1
    assert record(api, idempotency="order-79").status_code == 200  # the same act: a replay


def test_idempotency_keys_of_two_api_keys_never_meet(org, dpo, offers, notice):
    one, two = (api_client(make_key(org, dpo, name=n)[1]) for n in ("A", "B"))
    record(one, idempotency="1")
    assert record(two, idempotency="1").json()["replayed"] is False


def test_a_recorded_event_says_which_key_recorded_it(api, org, dpo, offers, notice):
    record(api)
    event = ConsentEvent.objects.get()
    assert event.recorded_by == dpo
    assert event.user_agent.startswith("API key cst_")
    assert event.notice_version == notice
    assert event.proof.quote == "Sí, acepto"


def test_a_proof_photo_goes_up_as_multipart_and_its_digest_into_the_ledger(api, offers, notice):
    photo = SimpleUploadedFile("reply.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = api.post(
        "/api/v1/events/",
        {
            "phone": "612345678",
            "full_name": "Lucía",
            "purposes": ["offers"],
            "channel": "whatsapp",
            "files": [photo],
        },
        HTTP_IDEMPOTENCY_KEY="photo-1",
    )
    assert response.status_code == 201, response.content
    stored = ProofFile.objects.get()
    assert stored.content_type == "image/jpeg"
    digests = response.json()["events"][0]["proof_digests"]
    assert {"kind": "file", "sha256": stored.sha256, "type": "image/jpeg"} in digests


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_kept(api, offers, notice):
    fake = SimpleUploadedFile("reply.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    response = api.post(
        "/api/v1/events/",
        {
            "phone": "612345678",
            "full_name": "L",
            "purposes": ["offers"],
            "channel": "whatsapp",
            "files": [fake],
        },
    )
    assert response.status_code == 400 and "files" in response.json()
    assert not (ConsentEvent.objects.exists() or Proof.objects.exists())
    assert not DataSubject.objects.exists()


def test_a_rule_refusal_is_a_400_and_changes_nothing(api, org, offers, notice):
    # A withdrawal needs a grant before it (consents.rules), and nobody has this number.
    response = record(api, action="withdrawn")
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    assert not DataSubject.objects.exists() and not ConsentEvent.objects.exists()
    response = record(api, phone="612345678", purposes=["offers", "unknown"])
    assert response.status_code == 400 and "purposes" in response.json()


def test_a_withdrawal_through_the_api_ends_the_consent(api, offers, notice):
    record(api)
    assert record(api, action="withdrawn", quote="").status_code == 201
    assert check(api, "612345678").json()["reason"] == "no_consent"


def test_a_minor_needs_a_guardian(api, offers, notice):
    response = record(api, is_minor=True)
    assert response.status_code == 400 and "guardian" in str(response.json())
    assert record(api, is_minor=True, guardian_name="Ana Pérez").status_code == 201
    assert ConsentEvent.objects.get().given_by == "guardian"


def test_reads_cover_only_the_keys_organisation(api, org, other_org, offers, notice):
    mine = DataSubjectFactory(organisation=org)
    theirs = DataSubjectFactory(organisation=other_org, phone="+34612345678")
    theirs_purpose = PurposeFactory(organisation=other_org, code="offers")
    grant(theirs, theirs_purpose, published_notice(purposes=[theirs_purpose]))
    ids = [row["id"] for row in api.get("/api/v1/subjects/").json()["results"]]
    assert ids == [mine.pk]
    assert api.get(f"/api/v1/subjects/{theirs.pk}/").status_code == 404
    assert api.get("/api/v1/events/").json()["count"] == 0
    assert check(api, "612345678").json()["allowed"] is False


def test_blocked_people_are_not_listed(api, org):
    DataSubjectFactory(organisation=org, blocked=True)
    visible = DataSubjectFactory(organisation=org)
    assert [r["id"] for r in api.get("/api/v1/subjects/").json()["results"]] == [visible.pk]


def test_subject_detail_lists_their_consents(api, offers, notice):
    subject = record(api).json()["subject"]
    body = api.get(f"/api/v1/subjects/{subject}/").json()
    assert body["phone"] == "+34612345678"
    assert [(c["purpose"], c["action"]) for c in body["consents"]] == [("offers", "granted")]


def test_the_ledger_can_be_followed_after_a_sequence(api, offers, notice):
    record(api)
    record(api, phone="699887766")
    events = api.get("/api/v1/events/").json()["results"]
    assert [e["sequence"] for e in events] == [1, 2]
    after = api.get("/api/v1/events/", {"after": 1}).json()["results"]
    assert [e["sequence"] for e in after] == [2]
    assert api.get("/api/v1/events/2/").json()["hash"] == events[1]["hash"]
    assert api.get("/api/v1/events/", {"after": "x"}).status_code == 400


def test_a_rights_request_is_logged_and_its_due_date_computed(api, org, offers, notice):
    record(api)
    response = api.post(
        "/api/v1/requests/",
        {"right": "access", "channel": "email", "received_on": "2026-11-30", "phone": "612345678"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    logged = RightsRequest.objects.get()
    assert response.json()["due_on"] == logged.due_on.isoformat() == "2026-12-30"
    assert api.get(f"/api/v1/requests/{logged.pk}/").json()["status"] == logged.status


def test_a_rights_request_without_a_way_to_answer_is_refused(api):
    response = api.post(
        "/api/v1/requests/",
        {"right": "access", "channel": "email", "received_on": "2026-11-30"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not RightsRequest.objects.exists()


def test_a_certificate_is_started_polled_and_downloaded(
    api, offers, notice, django_capture_on_commit_callbacks
):
    subject = record(api).json()["subject"]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(
            "/api/v1/jobs/",
            {"kind": "certificate", "subject": subject},
            content_type="application/json",
        )
    assert started.status_code == 202, started.content
    job = api.get(f"/api/v1/jobs/{started.json()['id']}/").json()
    assert job["status"] == "done", job  # the test suite runs jobs inline
    download = api.get(job["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert AuditEntry.objects.filter(register="job", action="downloaded").exists()


def test_a_job_for_someone_not_on_record_is_refused(api):
    response = api.post(
        "/api/v1/jobs/", {"kind": "certificate", "subject": 999}, content_type="application/json"
    )
    assert response.status_code == 400 and "subject" in response.json()


def test_the_schema_and_docs_need_no_key_and_load_nothing_from_elsewhere(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/consent-check/" in paths and "/api/v1/events/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


def test_a_key_stops_working_when_its_maker_is_no_longer_the_dpo(org, dpo):
    _key, plaintext = make_key(org, dpo)
    assert api_client(plaintext).get("/api/v1/purposes/").status_code == 200
    dpo.memberships.filter(organisation=org).update(role="staff")
    assert api_client(plaintext).get("/api/v1/purposes/").status_code == 401


def test_only_a_dpo_makes_keys(org, staff):
    with pytest.raises(ValidationError):
        make_key(org, staff)
    assert not ApiKey.objects.exists()


def test_a_key_over_its_rate_gets_429_with_retry_after(org, dpo, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_PER_KEY = 3
    api = api_client(make_key(org, dpo)[1])
    answers = [api.get("/api/v1/purposes/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    other = api_client(make_key(org, dpo, name="Other")[1])
    assert other.get("/api/v1/purposes/").status_code == 200  # per key, not per organisation
    cache.clear()


def test_create_api_key_prints_the_key_last_on_its_line(org, dpo, capsys):
    from django.core.management import call_command

    call_command("create_api_key", "--org", org.slug, "--name", "CRM", "--scope", "requests")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    plaintext = line.rsplit(" ", 1)[-1]
    key = ApiKey.objects.get()
    assert key.scopes == ["requests"] and plaintext.startswith(key.prefix)
    assert api_client(plaintext).get("/api/v1/requests/").status_code == 200


def test_create_api_key_refuses_an_unknown_organisation(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("create_api_key", "--org", "nope", "--name", "CRM")
