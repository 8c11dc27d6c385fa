"""Who may open each page of api/key_urls.py (see tests/access.py). The API's own routes
(namespace api_v1) have their matrix in tests/api/test_api_access.py."""

from tests.access import DPO, Route, org_and_pk, org_only


def _key(org) -> dict:
    from api.services import api_key_create
    from tests.accounts.factories import MembershipFactory

    dpo = MembershipFactory(organisation=org, role="dpo").user
    key, _plaintext = api_key_create(organisation=org, name="CRM", scopes=["requests"], user=dpo)
    return {"key": key.pk}


ROUTES = {
    "keys": Route(allowed=DPO, kwargs=org_only),
    "key_revoke": Route(allowed=DPO, method="post", setup=_key, kwargs=org_and_pk("key")),
}


def _webhook(org) -> dict:
    from api.webhooks import webhook_create
    from tests.accounts.factories import MembershipFactory

    dpo = MembershipFactory(organisation=org, role="dpo").user
    hook = webhook_create(
        organisation=org, url="https://tool.example/h", events=["consent.withdrawn"], user=dpo
    )
    return {"webhook": hook.pk}


ROUTES |= {
    "webhooks": Route(allowed=DPO, kwargs=org_only),
    "webhook_disable": Route(
        allowed=DPO, method="post", setup=_webhook, kwargs=org_and_pk("webhook")
    ),
}
