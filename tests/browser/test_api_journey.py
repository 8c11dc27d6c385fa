"""Issue 13, tried as a new user would: the DPO makes an API key in the browser; a script (plain
HTTP, like any other tool's) records a consent with a proof photo and an idempotency key, twice,
and gets one event; asks the consent check for the number typed another way and is allowed; the
person withdraws through their personal link; the consent check now says no. Real chromium and
a real HTTP client against the live server."""

import json
import urllib.error
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from api.models import ApiKey
from consents.models import ConsentEvent, ProofFile
from consents.services import consent_link_for_subject
from tests.api.factories import jpeg_bytes
from tests.browser.journey import clinic_with_dpo, log_in
from tests.consents.factories import PurposeFactory, published_notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db, fresh_rate_limits):
    org, dpo = clinic_with_dpo()
    offers = PurposeFactory(organisation=org, code="offers", name="Promociones")
    published_notice(purposes=[offers], summary="Le enviaremos ofertas por WhatsApp.")
    return {"org": org, "dpo": dpo}


def _call(url, key, *, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (our server)
    request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{item}\r\n".encode()
            )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
            f' filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_a_dpo_makes_a_key_and_a_script_records_and_checks_consent(browser, live_server, clinic):
    # The DPO makes a key in the browser and copies it from the page.
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("WhatsApp Business platform")
    page.get_by_label("Record consent (new events, proof files)").check()
    page.get_by_role("button", name="Make the key").click()
    key = page.get_by_test_id("key-text").inner_text().strip()
    assert key.startswith("cst_")
    expect(page.get_by_test_id("key-row")).to_have_count(1)
    assert ApiKey.objects.get().scopes == ["consents:read", "consents:write"]

    # A script records the consent with a photo of the reply, twice with one idempotency key.
    api = f"{live_server.url}/api/v1"
    body, content_type = _multipart(
        {
            "phone": "612 34 56 78",
            "full_name": "Lucía Pérez",
            "language": "es",
            "purposes": "offers",
            "channel": "whatsapp",
            "quote": "Sí, acepto las ofertas",
        },
        {"files": ("respuesta.jpg", jpeg_bytes(), "image/jpeg")},
    )
    headers = {"Content-Type": content_type, "Idempotency-Key": "crm-contact-4411"}
    first = _call(f"{api}/events/", key, data=body, headers=headers, method="POST")
    again = _call(f"{api}/events/", key, data=body, headers=headers, method="POST")
    assert first[0] == 201, first
    assert again[0] == 200 and again[1]["replayed"] is True
    assert ConsentEvent.objects.count() == 1
    assert ProofFile.objects.count() == 1

    # The consent check, with the number typed another way.
    status, answer = _call(f"{api}/consent-check/?phone=%2B34612345678&purpose=offers", key)
    assert (status, answer["allowed"], answer["reason"]) == (200, True, "consented")
    assert answer["event"]["sequence"] == first[1]["events"][0]["sequence"]

    # The person withdraws on their own link (in Spanish, on a phone).
    subject = ConsentEvent.objects.get().subject
    link = consent_link_for_subject(subject=subject, created_by=clinic["dpo"])
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{live_server.url}/c/{link.token}/")
    row = phone.locator('[data-testid="purpose-choice"][data-purpose="offers"]')
    row.get_by_test_id("withdraw").click()
    expect(phone.get_by_role("alert")).to_contain_text("ha retirado su consentimiento")

    status, answer = _call(f"{api}/consent-check/?phone=0034612345678&purpose=offers", key)
    assert (status, answer["allowed"], answer["reason"]) == (200, False, "no_consent")
    assert answer["event"]["action"] == "withdrawn"

    # A revoked key is refused at once.
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke the key …?"
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    assert _call(f"{api}/consent-check/?phone=612345678&purpose=offers", key)[0] == 401
