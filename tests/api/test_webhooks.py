"""Webhooks out: a withdrawal or an objection reaches the messaging tool at once, signed; a tool
that is down is tried again later; nothing is sent for what was rolled back."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import Webhook, WebhookDelivery
from api.webhooks import MAX_ATTEMPTS, deliver_due, webhook_create, webhook_disable
from consents.acts import ConsentAct, withdrawal
from consents.models import Channel, SuppressedNumber
from consents.services import consent_withdraw, suppression_add
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db


class Receiver:
    """A messaging tool on loopback: records what it is sent, answers ``status``."""

    def __init__(self):
        self.received = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/constancia"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tool():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def granted(org):
    offers = PurposeFactory(organisation=org, code="offers")
    subject = DataSubjectFactory(organisation=org, phone="+34612345678")
    grant(subject, offers, published_notice(purposes=[offers]))
    return subject, offers


@pytest.fixture
def hook(org, dpo, tool):
    return webhook_create(organisation=org, url=tool.url, events=Webhook.Event.values, user=dpo)


def _withdraw(org, subject, purpose, callbacks):
    with callbacks(execute=True):
        consent_withdraw(
            organisation=org,
            act=ConsentAct(
                decisions=withdrawal(purpose), channel=Channel.WHATSAPP, subject=subject
            ),
        )


def test_a_withdrawal_is_posted_at_once_and_signed(
    org, granted, hook, tool, django_capture_on_commit_callbacks
):
    subject, offers = granted
    _withdraw(org, subject, offers, django_capture_on_commit_callbacks)
    assert len(tool.received) == 1
    headers, body = tool.received[0]
    payload = json.loads(body)
    assert payload["type"] == "consent.withdrawn"
    assert (payload["phone"], payload["purpose"]) == ("+34612345678", "offers")
    timestamp, given = (
        part.split("=", 1)[1] for part in headers["Constancia-Signature"].split(",")
    )
    expected = hmac.new(hook.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(given, expected.hexdigest())
    assert headers["Constancia-Event"] == "consent.withdrawn"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_a_grant_sends_nothing(org, hook, tool, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        offers = PurposeFactory(organisation=org, code="offers")
        grant(DataSubjectFactory(organisation=org), offers, published_notice(purposes=[offers]))
    assert tool.received == [] and not WebhookDelivery.objects.exists()


def test_a_rolled_back_withdrawal_sends_nothing(
    org, granted, hook, tool, django_capture_on_commit_callbacks
):
    subject, offers = granted
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        consent_withdraw(
            organisation=org,
            act=ConsentAct(decisions=withdrawal(offers), channel=Channel.WHATSAPP, subject=subject),
        )
        raise RuntimeError("the request failed after the append")
    assert tool.received == [] and not WebhookDelivery.objects.exists()


def test_a_tool_that_is_down_is_tried_again_later_then_given_up(
    org, granted, hook, tool, django_capture_on_commit_callbacks
):
    subject, offers = granted
    tool.status = 503
    _withdraw(org, subject, offers, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert deliver_due() == 0  # not due yet
    tool.status = 200
    assert deliver_due(now=delivery.next_attempt_at + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(tool.received) == 2

    tool.status = 500
    _withdraw_again = WebhookDelivery.objects.create(
        webhook=hook, event="consent.withdrawn", payload={"type": "consent.withdrawn"}
    )
    later = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(days=1)
        deliver_due(now=later)
    _withdraw_again.refresh_from_db()
    assert (_withdraw_again.status, _withdraw_again.attempts) == ("failed", MAX_ATTEMPTS)


def test_an_unreachable_tool_is_logged_not_raised(
    org, dpo, granted, django_capture_on_commit_callbacks
):
    webhook_create(
        organisation=org, url="http://127.0.0.1:9/nothing", events=["consent.withdrawn"], user=dpo
    )
    subject, offers = granted
    _withdraw(org, subject, offers, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error


def test_an_objection_is_posted(org, hook, tool, django_capture_on_commit_callbacks):
    subject = DataSubjectFactory(organisation=org, phone="+34699000111")
    with django_capture_on_commit_callbacks(execute=True):
        suppression_add(
            organisation=org,
            phone=subject.phone,
            reason=SuppressedNumber.Reason.OBJECTION,
            request_pk=None,
            user=None,
        )
    payload = json.loads(tool.received[0][1])
    assert (payload["type"], payload["phone"]) == ("number.suppressed", "+34699000111")


def test_a_switched_off_webhook_is_sent_nothing_more(
    org, dpo, granted, hook, tool, django_capture_on_commit_callbacks
):
    webhook_disable(webhook=hook, user=dpo)
    subject, offers = granted
    _withdraw(org, subject, offers, django_capture_on_commit_callbacks)
    assert tool.received == [] and not WebhookDelivery.objects.exists()
    assert Webhook.objects.filter(pk=hook.pk, active=False).exists()


@pytest.mark.parametrize(
    "url", ["http://tool.example/hook", "ftp://tool.example/hook", "https://", "javascript:x"]
)
def test_only_https_or_loopback_addresses_are_taken(org, dpo, url):
    with pytest.raises(ValidationError):
        webhook_create(organisation=org, url=url, events=["consent.withdrawn"], user=dpo)
    assert not Webhook.objects.exists()


def test_only_the_dpo_sets_webhooks(org, staff):
    with pytest.raises(ValidationError):
        webhook_create(
            organisation=org, url="https://tool.example/h", events=["consent.withdrawn"], user=staff
        )


def test_the_page_adds_a_webhook_and_shows_its_log(client, org, dpo, tool):
    client.force_login(dpo)
    response = client.post(
        f"/o/{org.slug}/webhooks/", {"url": tool.url, "events": ["consent.withdrawn"]}
    )
    assert response.status_code == 302
    hook = Webhook.objects.get()
    page = client.get(f"/o/{org.slug}/webhooks/").content.decode()
    assert hook.secret in page and tool.url in page
    refused = client.post(
        f"/o/{org.slug}/webhooks/",
        {"url": "http://tool.example/h", "events": ["consent.withdrawn"]},
    )
    assert refused.status_code == 200 and Webhook.objects.count() == 1
