"""Notices: what a person was told is audited when written and published, and frozen once
published, including whether it informs of international transfers (invariants 4 and 6)."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.models import AuditEntry
from consents import services
from consents.models import NoticeVersion
from tests.consents.factories import NoticeVersionFactory, PurposeFactory, published_notice

pytestmark = pytest.mark.django_db

CLIENT_IP = "192.0.2.44"


@pytest.fixture
def purpose(org):
    return PurposeFactory(organisation=org, code="marketing", name="Promociones")


def url(name, org, **kwargs):
    return reverse(f"consents:{name}", kwargs={"org_slug": org.slug, **kwargs})


def _form(purpose, **changes):
    data = {
        "language": "ar",
        "version": "2027-01",
        "title": "إشعار الخصوصية",
        "purposes": [purpose.pk],
        "summary": "نرسل لك العروض عبر واتساب.",
        "text": "المسؤول، الأغراض، الأساس القانوني، المستلمون، الاحتفاظ، الحقوق.",
        "informs_international_transfers": "on",
        "transfer_safeguards": "الولايات المتحدة: إطار خصوصية البيانات",
    }
    return data | changes


def test_creating_editing_and_publishing_a_notice_are_audited(client_for, org, dpo, purpose):
    client = client_for(dpo)
    client.post(url("notice_create", org), _form(purpose), REMOTE_ADDR=CLIENT_IP)
    notice = NoticeVersion.objects.get(organisation=org)
    client.post(
        url("notice_edit", org, pk=notice.pk),
        _form(purpose, version="2027-02"),
        REMOTE_ADDR=CLIENT_IP,
    )
    client.post(url("notice_publish", org, pk=notice.pk), REMOTE_ADDR=CLIENT_IP)

    entries = list(AuditEntry.objects.filter(register="noticeversion").order_by("pk"))
    assert [e.action for e in entries] == ["created", "changed", "published"]
    assert all(
        (e.user, e.ip_address, e.object_id) == (dpo, CLIENT_IP, str(notice.pk)) for e in entries
    )
    assert entries[1].changes == [{"field": "version", "old": "2027-01", "new": "2027-02"}]
    notice.refresh_from_db()
    assert entries[2].changes == [{"field": "sha256", "old": "", "new": notice.sha256}]
    assert entries[2].object_repr == str(notice)


def test_saving_a_draft_unchanged_adds_no_audit_entry(org, dpo, purpose):
    draft = {"language": "es", "version": "1", "title": "Aviso", "summary": "s", "text": "t"}
    notice = services.notice_update_draft(
        notice=NoticeVersion(organisation=org, created_by=dpo),
        data=draft,
        purposes=[purpose],
        changed_by=dpo,
    )
    services.notice_update_draft(notice=notice, data=draft, purposes=[purpose], changed_by=dpo)
    assert AuditEntry.objects.filter(register="noticeversion").count() == 1


def test_the_notice_form_records_international_transfers(client_for, org, dpo, purpose):
    client = client_for(dpo)
    response = client.post(url("notice_create", org), _form(purpose))
    assert response.status_code == 302
    notice = NoticeVersion.objects.get(organisation=org)
    assert notice.informs_international_transfers
    assert notice.transfer_safeguards == "الولايات المتحدة: إطار خصوصية البيانات"
    page = client.get(url("notice", org, pk=notice.pk)).content.decode()
    assert "إطار خصوصية البيانات" in page


def test_a_ticked_transfer_without_destination_and_safeguard_is_refused(
    client_for, org, dpo, purpose
):
    response = client_for(dpo).post(
        url("notice_create", org), _form(purpose, transfer_safeguards="")
    )
    assert response.status_code == 200
    assert "Say where the data go and on which safeguard" in response.content.decode()
    assert not NoticeVersion.objects.exists()
    assert not AuditEntry.objects.filter(register="noticeversion").exists()


def test_the_transfer_fields_leave_the_digest_of_a_notice_as_it_was(purpose):
    # Ledger events quote the digests of notices published before the field existed.
    fields = {"title": "Aviso", "summary": "Ofertas.", "text": "Texto completo."}
    expected = hashlib.sha256(b"Aviso\n\nOfertas.\n\nTexto completo.").hexdigest()
    silent = published_notice(purposes=[purpose], version="a", **fields)
    informing = published_notice(
        purposes=[purpose],
        version="b",
        informs_international_transfers=True,
        transfer_safeguards="EE. UU.: Marco de Privacidad de Datos",
        **fields,
    )
    assert silent.sha256 == informing.sha256 == expected


def test_the_transfer_fields_are_frozen_once_published(org, purpose):
    notice = published_notice(purposes=[purpose])
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE consents_noticeversion SET informs_international_transfers = %s", [True]
        )
    with pytest.raises(ValidationError, match="A published notice cannot be changed"):
        services.notice_update_draft(
            notice=notice, data={"informs_international_transfers": True}, purposes=[purpose]
        )
    notice.refresh_from_db()
    assert not notice.informs_international_transfers


def test_publishing_twice_is_refused_and_audited_once(org, dpo, purpose):
    notice = NoticeVersionFactory(organisation=org, purposes=[purpose])
    services.notice_publish(notice=notice, published_by=dpo)
    with pytest.raises(ValidationError, match="This notice version is already published."):
        services.notice_publish(notice=notice, published_by=dpo)
    assert AuditEntry.objects.filter(register="noticeversion", action="published").count() == 1
