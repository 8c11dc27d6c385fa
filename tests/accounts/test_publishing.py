"""One "frozen once published" for notices and the usage policy, and one audited publish step
(invariants 4 and 6), plus audit_record's register and action (structure issue)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.models import AuditEntry, FrozenOnPublish, Invitation
from accounts.services import audit_record, version_publish
from consents import services as consents_services
from consents.models import NoticeVersion
from groups import services as groups_services
from groups.models import UsagePolicyVersion
from tests.consents.factories import NoticeVersionFactory, PurposeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(org, dpo):
    return UsagePolicyVersion.objects.create(
        organisation=org, version="2026-01", text="Solo números de empresa.", created_by=dpo
    )


def test_notices_and_the_usage_policy_share_the_frozen_base():
    assert issubclass(NoticeVersion, FrozenOnPublish)
    assert issubclass(UsagePolicyVersion, FrozenOnPublish)


def test_publishing_the_usage_policy_is_audited_with_who_and_from_where(
    client_for, org, dpo, policy
):
    response = client_for(dpo).post(
        reverse("groups:policy_publish", kwargs={"org_slug": org.slug, "pk": policy.pk}),
        REMOTE_ADDR="198.51.100.77",
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    entry = AuditEntry.objects.get(organisation=org, action=AuditEntry.Action.PUBLISHED)
    assert (entry.user, entry.ip_address) == (dpo, "198.51.100.77")
    assert (entry.register, entry.object_id) == ("usagepolicyversion", str(policy.pk))
    assert entry.changes == [{"field": "sha256", "old": "", "new": policy.sha256}]


def test_a_refused_publication_is_not_audited_and_freezes_nothing(org, dpo):
    empty = UsagePolicyVersion.objects.create(organisation=org, version="v0", text="  ")
    with pytest.raises(ValidationError, match="A policy needs a text."):
        groups_services.policy_publish(policy=empty, published_by=dpo)
    notice = NoticeVersionFactory(organisation=org)  # no purpose
    with pytest.raises(ValidationError, match="at least one purpose"):
        consents_services.notice_publish(notice=notice, published_by=dpo)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PUBLISHED).exists()
    assert not UsagePolicyVersion.objects.published().exists()
    assert not NoticeVersion.objects.published().exists()


def test_each_kind_says_it_is_already_published_in_its_own_words(org, dpo, policy):
    version_publish(version=policy, published_by=dpo)
    with pytest.raises(ValidationError, match="This policy version is already published."):
        version_publish(version=policy, published_by=dpo)
    notice = NoticeVersionFactory(organisation=org, purposes=[PurposeFactory(organisation=org)])
    version_publish(version=notice, published_by=dpo)
    with pytest.raises(ValidationError, match="This notice version is already published."):
        version_publish(version=notice, published_by=dpo)


def test_the_published_policy_is_refused_by_the_model(org, dpo, policy):
    version_publish(version=policy, published_by=dpo)
    policy.refresh_from_db()
    policy.text = "Otra cosa"
    with pytest.raises(ValidationError, match="A published policy cannot be changed"):
        policy.full_clean()


def test_audit_record_names_the_register_after_the_model(org, dpo):
    entry = audit_record(
        organisation=org,
        user=dpo,
        register=NoticeVersion,
        action=AuditEntry.Action.PUBLISHED,
        object_repr="x",
    )
    assert entry.register == "noticeversion"
    assert entry.register_label == "Notice versions"
    assert entry.get_action_display() == "published"


def test_audit_record_refuses_an_action_that_is_not_an_audit_action(org, dpo):
    with pytest.raises(ValueError):
        audit_record(organisation=org, user=dpo, register=Invitation, action="exportjob recorded")
    assert not AuditEntry.objects.filter(register="invitation").exists()


def test_the_activity_page_filters_on_registers_written_by_audit_record(client_for, org, dpo):
    AuditEntry.objects.all().delete()
    for model, name in ((NoticeVersion, "N1"), (UsagePolicyVersion, "P1"), (Invitation, "I1")):
        audit_record(
            organisation=org,
            user=dpo,
            register=model,
            action=AuditEntry.Action.PUBLISHED,
            object_repr=name,
        )
    client = client_for(dpo)
    page = client.get("/o/clinic/activity/")
    choices = dict(page.context["filter"].form.fields["register"].choices)
    assert choices["noticeversion"] == "Notice versions"
    assert choices["usagepolicyversion"] == "Whatsapp usage policy versions"
    shown = client.get("/o/clinic/activity/", {"register": "usagepolicyversion"})
    assert [e.object_repr for e in shown.context["page"]] == ["P1"]


def test_a_published_notice_is_refused_by_the_database_whatever_the_field(org, dpo):
    notice = NoticeVersionFactory(organisation=org, purposes=[PurposeFactory(organisation=org)])
    version_publish(version=notice, published_by=dpo)
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE consents_noticeversion SET transfer_safeguards = 'x'")
