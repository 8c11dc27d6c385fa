"""accounts.rows: instances from a hand-written query are those the ORM would build."""

import pytest

from api.models import ApiKey
from api.services import api_key_find
from consents.models import ConsentEvent
from consents.selectors import consent_checks
from tests.api.factories import make_key
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice

pytestmark = pytest.mark.django_db


def values(instance, names=None):
    fields = type(instance)._meta.concrete_fields
    return {f.attname: getattr(instance, f.attname) for f in fields if not names or f.name in names}


def test_the_key_its_organisation_and_maker_are_those_the_orm_reads(org, dpo):
    key, plaintext = make_key(org, dpo)
    key.last_used_at = key.created_at
    key.save()
    found = api_key_find(plaintext)
    orm = ApiKey.objects.select_related("organisation", "created_by").get(pk=key.pk)
    assert values(found) == values(orm)
    assert isinstance(found.scopes, list) and found.last_used_at == orm.last_used_at
    assert values(found.organisation) == values(orm.organisation)
    assert values(found.created_by) == values(orm.created_by)


def test_the_event_a_check_rests_on_is_the_ledger_s_and_loads_the_rest_on_use(org):
    purpose = PurposeFactory(organisation=org)
    notice = published_notice(purposes=[purpose])
    subject = DataSubjectFactory(organisation=org)
    grant(subject, purpose, notice)
    check = consent_checks(org, [subject.phone.as_e164], purpose)[0]
    orm = ConsentEvent.objects.get(subject=subject, purpose=purpose)
    assert check.allowed and check.event.pk == orm.pk
    assert values(check.event, ("sequence", "action", "captured_at")) == values(
        orm, ("sequence", "action", "captured_at")
    )
    assert check.event.notice_version.version == notice.version
    assert check.event.hash == orm.hash  # left out of the query: loads on first use
