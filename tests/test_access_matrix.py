"""Every page of every project app, for every member of the fixed cast (invariant 1).

The table lives in tests/<app>/access.py; this file walks the URL configuration so that a new
page without an entry fails here instead of shipping unchecked.
"""

from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.access import ROLES, all_routes, project_url_names

pytestmark = pytest.mark.django_db

ROUTES = all_routes()


def _request(client, name, route, org):
    ctx = {"org": org}
    if route.setup is not None:
        ctx |= route.setup(org)
    kwargs = route.kwargs(ctx)
    url = reverse(name, kwargs=kwargs)
    data = route.data(ctx) if route.data else {}
    response = getattr(client, route.method)(url, data)
    return url, kwargs, response


URLS = project_url_names()


def _org_routes():
    return [name for name in ROUTES if "org_slug" in URLS.get(name, ())]


def test_every_project_url_has_an_access_rule():
    missing = set(URLS) - set(ROUTES)
    assert not missing, f"Add these URLs to tests/<app>/access.py: {sorted(missing)}"


def test_every_access_rule_names_an_existing_url():
    stale = set(ROUTES) - set(URLS)
    assert not stale, f"These access rules name no URL: {sorted(stale)}"


def test_the_matrix_covers_organisation_pages():
    # Guards the walk itself: if it found nothing, every test below would pass vacuously.
    assert "accounts:dashboard" in _org_routes()
    assert {"accounts:login", "accounts:member_remove"} <= set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_login_unless_the_page_is_public(client, org, name):
    route = ROUTES[name]
    url, _kwargs, response = _request(client, name, route, org)
    if route.is_public:
        assert response.status_code in (200, 302)
        assert not response.get("Location", "").startswith("/login/?next=")
    else:
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={quote(url)}"


@pytest.mark.parametrize("name", sorted(_org_routes()))
def test_members_of_another_organisation_get_404(client, org, outsider, name):
    client.force_login(outsider)
    _url, _kwargs, response = _request(client, name, ROUTES[name], org)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "role"),
    [(n, role) for n in sorted(ROUTES) for role in ROLES if not ROUTES[n].allows(role)],
)
def test_members_whose_role_is_not_allowed_get_403(client, cast, org, name, role):
    client.force_login(cast[role])
    _url, _kwargs, response = _request(client, name, ROUTES[name], org)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "role"),
    [(n, role) for n in sorted(ROUTES) for role in ROLES if ROUTES[n].allows(role)],
)
def test_members_whose_role_is_allowed_are_let_in(client, cast, org, name, role):
    client.force_login(cast[role])
    _url, _kwargs, response = _request(client, name, ROUTES[name], org)
    assert response.status_code in (200, 302)


def _post_only_org_routes():
    return [n for n in _org_routes() if ROUTES[n].method == "post" and not ROUTES[n].is_public]


@pytest.mark.parametrize("name", sorted(_post_only_org_routes()))
def test_a_get_to_a_post_only_page_is_404_to_outsiders_and_405_to_members(client, cast, org, name):
    # The organisation is resolved before the method is looked at, in every app: an outsider
    # learns nothing, a member who may use the page is told the method is wrong.
    route = ROUTES[name]
    ctx = {"org": org} | (route.setup(org) if route.setup else {})
    url = reverse(name, kwargs=route.kwargs(ctx))
    client.force_login(cast["outsider"])
    assert client.get(url).status_code == 404
    allowed = sorted(route.allowed)[0]
    client.force_login(cast[allowed])
    assert client.get(url).status_code == 405
