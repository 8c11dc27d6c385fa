"""The register in evidence packs, and the DPO's checklist question on time limits."""

import hashlib
import json
import subprocess
import zipfile
from datetime import date, datetime

import pytest
import time_machine

from evidence.packs import PackScope, build_pack
from groups.checklist import answers
from rights_requests import checklist, services
from tests.consents.factories import DataSubjectFactory
from tests.rights_requests.factories import carried_out, logged_request, verified_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(org, dpo):
    """On 10 February 2027: one answered on time, one answered late, one open from March 2026
    (outside a pack for 2027)."""
    with time_machine.travel(datetime(2027, 2, 10, 10, 0), tick=False):
        person = DataSubjectFactory(organisation=org, full_name="Lucía Pérez")
        old = verified_request(org, subject=person, received_on=date(2026, 3, 1))
        on_time = verified_request(org, subject=person, received_on=date(2027, 1, 31))
        carried_out(on_time, dpo)
        services.request_answer(rights_request=on_time, answer="Datos.", user=dpo, sent_via="post")
        late = verified_request(org, subject=person, received_on=date(2027, 1, 5), right="erasure")
        services.request_reject(rights_request=late, reason="Sin base.", user=dpo, sent_via="post")
    return {"old": old, "on_time": on_time, "late": late}


def test_a_pack_holds_the_register_of_its_period_with_the_answer_letters(org, register, tmp_path):
    path = tmp_path / "pack.zip"
    with time_machine.travel(datetime(2027, 2, 11, 10, 0), tick=False):
        manifest = build_pack(
            organisation=org,
            scope=PackScope(date_from=date(2027, 1, 1), date_to=date(2027, 12, 31)),
            path=path,
        )
    with zipfile.ZipFile(path) as pack:
        names = set(pack.namelist())
        records = json.loads(pack.read("requests/requests.json"))
        csv_text = pack.read("requests/requests.csv").decode()
        letter_names = [n for n in names if n.startswith("requests/letters/")]
        letter_bytes = {n: pack.read(n) for n in letter_names}
        pack.extract("summary.pdf", tmp_path)
    by_ref = {r["reference"]: r for r in records}
    assert set(by_ref) == {register["on_time"].reference, register["late"].reference}
    on_time = by_ref[register["on_time"].reference]
    assert (on_time["received_on"], on_time["due_on"], on_time["closed_on"]) == (
        "2027-01-31",
        "2027-03-01",
        "2027-02-10",
    )
    assert on_time["on_time"] is True
    assert by_ref[register["late"].reference]["on_time"] is False
    assert register["old"].reference not in csv_text
    assert len(letter_names) == 2  # the answer and the refusal
    for letter in on_time["letters"] + by_ref[register["late"].reference]["letters"]:
        assert hashlib.sha256(letter_bytes[letter["file"]]).hexdigest() == letter["sha256"]
    listed = {f["name"] for f in manifest["files"]}
    assert {"requests/requests.csv", "requests/requests.json", *letter_names} <= listed
    assert manifest["sections"]["requests"]["late"] == 1
    summary = subprocess.run(
        ["pdftotext", str(tmp_path / "summary.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Rights requests (GDPR Art. 12-21)" in summary
    assert "Answered or refused late" in summary


def test_the_register_can_be_left_out_of_a_pack(org, register, tmp_path):
    path = tmp_path / "pack.zip"
    scope = PackScope(requests=False)
    assert PackScope.from_parameters(scope.to_parameters()).requests is False
    manifest = build_pack(organisation=org, scope=scope, path=path)
    assert "requests" not in manifest["sections"]
    with zipfile.ZipFile(path) as pack:
        assert not [n for n in pack.namelist() if n.startswith("requests/")]


def test_the_pack_form_offers_the_register_ticked(client_for, org, dpo):
    from django.urls import reverse

    response = client_for(dpo).get(reverse("evidence:pack", args=[org.slug]))
    assert response.context["form"].fields["requests"].initial is True


# --- checklist ------------------------------------------------------------------------------


def _answer(org):
    return {a.number: a for a in answers(org)}[9]


def test_the_checklist_says_yes_when_nothing_was_late(org, dpo):
    with time_machine.travel(datetime(2027, 2, 10, 10, 0), tick=False):
        rr = verified_request(org, received_on=date(2027, 2, 1))
        carried_out(rr, dpo)
        services.request_answer(rights_request=rr, answer="Datos.", user=dpo, sent_via="post")
        answer = _answer(org)
    assert answer.question == "Were all rights requests answered on time?"
    assert (answer.status, answer.figure) == (
        "yes",
        "1 request answered on time in the last 12 months",
    )


def test_the_checklist_says_partly_after_a_late_answer(org, register):
    with time_machine.travel(datetime(2027, 2, 12, 10, 0), tick=False):
        services.request_withdrawn(rights_request=register["old"], user=None)
        answer = _answer(org)
    assert (answer.status, answer.figure) == (
        "partly",
        "1 of 2 answered late in the last 12 months",
    )


def test_the_checklist_says_no_while_a_request_is_overdue(org, register):
    with time_machine.travel(datetime(2027, 2, 12, 10, 0), tick=False):
        answer = checklist.answered_on_time(org)
    assert (answer["status"], answer["figure"]) == ("no", "1 request is overdue now")
    assert answer["link"].endswith("?when=overdue")


def test_a_logged_request_alone_leaves_the_answer_yes(org):
    logged_request(org)
    assert _answer(org).status == "yes"
