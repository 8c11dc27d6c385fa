import re
from urllib.parse import unquote

import pytest
from django.urls import reverse

from groups.models import GroupMembership, StaffAccount, UsagePolicyVersion, WhatsAppGroup
from tests.groups.factories import StaffAccountFactory, group_purpose, group_with_notice

pytestmark = pytest.mark.django_db


def test_the_dpo_creates_a_group_and_sees_its_invite_link_and_qr(client_for, org, dpo):
    purpose = group_purpose(org, name="Grupo ortodoncia")
    account = StaffAccountFactory(organisation=org, number_type=StaffAccount.NumberType.PERSONAL)
    client = client_for(dpo)
    response = client.post(
        reverse("groups:group_create", args=[org.slug]),
        {
            "name": "Pacientes ortodoncia",
            "purpose": purpose.pk,
            "kind": "customers",
            "invite_url": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
            "admins": [account.pk],
        },
    )
    group = WhatsAppGroup.objects.get()
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert f"/g/{group.invite_token}/" in body
    # The QR code loads as an image only if the SVG names its namespace.
    qr = re.search(r'src="(data:image/svg\+xml[^"]+)"', body).group(1)
    assert "http://www.w3.org/2000/svg" in unquote(qr)
    assert "Administered from a personal number" in body


def test_a_bad_invite_link_is_refused_with_a_message(client_for, org, dpo):
    response = client_for(dpo).post(
        reverse("groups:group_create", args=[org.slug]),
        {
            "name": "G",
            "purpose": group_purpose(org).pk,
            "kind": "customers",
            "invite_url": "https://example.com/x",
        },
    )
    assert response.status_code == 200
    assert "WhatsApp invite link" in response.content.decode()
    assert not WhatsAppGroup.objects.exists()


def test_staff_add_a_member_by_number_who_is_then_flagged(client_for, org, staff):
    group = group_with_notice(org)
    client = client_for(staff)
    response = client.post(
        reverse("groups:member_add", args=[org.slug, group.pk]),
        {"phone": "0034 600 11 22 33", "full_name": "Ana Ruiz"},
    )
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "1 member without consent to joining the group." in body
    membership = GroupMembership.objects.get()
    client.post(reverse("groups:member_leave", args=[org.slug, group.pk, membership.pk]))
    membership.refresh_from_db()
    assert membership.left_at is not None


def test_the_invite_link_is_not_shown_to_staff(client_for, org, staff):
    group = group_with_notice(org)
    body = client_for(staff).get(reverse("groups:group", args=[org.slug, group.pk])).content
    assert group.invite_url.encode() not in body


def test_the_dpo_registers_a_staff_account_in_any_phone_format(client_for, org, dpo):
    response = client_for(dpo).post(
        reverse("groups:staff_accounts", args=[org.slug]),
        {
            "phone": "611 22 33 44",
            "label": "Recepción",
            "number_type": "business",
            "app": "whatsapp_business",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert StaffAccount.objects.get().phone.as_e164 == "+34611223344"


def test_the_dpo_publishes_a_policy_and_sees_who_has_not_acknowledged(
    client_for, org, dpo, staff, auditor
):
    client = client_for(dpo)
    client.post(
        reverse("groups:policies", args=[org.slug]), {"version": "2026-01", "text": "Reglas"}
    )
    policy = UsagePolicyVersion.objects.get()
    client.post(reverse("groups:policy_publish", args=[org.slug, policy.pk]))
    body = client.get(reverse("groups:policies", args=[org.slug])).content.decode()
    assert "3 members have not acknowledged it." in body
    staff_client = client_for(staff)
    page = staff_client.get(reverse("groups:policy_acknowledge", args=[org.slug]))
    assert "Reglas" in page.content.decode()
    staff_client.post(reverse("groups:policy_acknowledge", args=[org.slug]))
    body = client_for(dpo).get(reverse("groups:policies", args=[org.slug])).content.decode()
    assert "2 members have not acknowledged it." in body
    response = client_for(dpo).post(
        reverse("groups:policy_edit", args=[org.slug, policy.pk]), {"version": "x", "text": "y"}
    )
    policy.refresh_from_db()
    assert policy.text == "Reglas" and response.status_code == 200
