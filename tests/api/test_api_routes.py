"""Every API route, for every scope (invariant 1, as tests/test_access_matrix.py does for pages).

Each route names the page permission it needs (accounts.roles), and a key's scopes grant page
permissions (api.scopes.GRANTS). This file walks the URL configuration, so a new API route
without an entry here fails instead of shipping unchecked: without a key it is 401; with a key
whose scopes do not grant the permission, 403; with one that does, it answers; with another
organisation's key, every row of this organisation is a 404.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import resolve, reverse

from accounts.roles import PERMISSIONS
from api.scopes import Scope, scopes_grant
from tests.access import url_names
from tests.consents.factories import DataSubjectFactory, PurposeFactory, grant, published_notice
from tests.groups.factories import WhatsAppGroupFactory
from tests.jobs.factories import finished_certificate_job
from tests.rights_requests.factories import logged_request

from .factories import api_client, make_key

pytestmark = pytest.mark.django_db

PUBLIC = "public"


@dataclass(frozen=True)
class ApiRoute:
    """``methods``: HTTP method -> the page permission it needs (or PUBLIC). ``kwargs`` builds
    the URL's arguments from the rows ``_world`` made; ``body`` the JSON a POST sends."""

    methods: dict
    kwargs: callable = lambda w: {}
    body: dict = field(default_factory=dict)
    query: callable = lambda w: {}

    @property
    def names_a_row(self) -> bool:
        return bool(self.kwargs(_Keys()))


class _Keys(dict):
    def __missing__(self, key):
        return 1


def _pk(name):
    return lambda w: {"pk": w[name]}


ROUTES = {
    "consent_check": ApiRoute(
        {"GET": "view_subjects", "POST": "view_subjects"},
        query=lambda w: {"phone": "+34600000001", "purpose": "offers"},
        body={"purpose": "offers", "phones": ["+34600000001"]},
    ),
    "subject_list": ApiRoute({"GET": "view_subjects"}),
    "subject_detail": ApiRoute({"GET": "view_subjects"}, kwargs=_pk("subject")),
    "event_list": ApiRoute(
        {"GET": "view_subjects", "POST": "capture_consent"},
        body={
            "phone": "+34600000002",
            "full_name": "Ana",
            "purposes": ["offers"],
            "channel": "whatsapp",
        },
    ),
    "event_detail": ApiRoute({"GET": "view_subjects"}, kwargs=lambda w: {"sequence": 1}),
    "state_list": ApiRoute({"GET": "view_subjects"}),
    "purpose_list": ApiRoute({"GET": "view"}),
    "purpose_detail": ApiRoute({"GET": "view"}, kwargs=lambda w: {"code": "offers"}),
    "notice_list": ApiRoute({"GET": "view"}),
    "notice_detail": ApiRoute({"GET": "view"}, kwargs=_pk("notice")),
    "group_list": ApiRoute({"GET": "view"}),
    "group_detail": ApiRoute({"GET": "view"}, kwargs=_pk("group")),
    "group_members": ApiRoute({"GET": "view"}, kwargs=_pk("group")),
    "request_list": ApiRoute(
        {"GET": "view_requests", "POST": "log_request"},
        body={
            "right": "access",
            "channel": "email",
            "received_on": "2026-11-30",
            "phone": "+34600000001",
        },
    ),
    "request_detail": ApiRoute({"GET": "view_requests"}, kwargs=_pk("request")),
    "job_list": ApiRoute({"GET": "export", "POST": "export"}, body={"kind": "ropa"}),
    "job_detail": ApiRoute({"GET": "export"}, kwargs=_pk("job")),
    "job_download": ApiRoute({"GET": "export"}, kwargs=_pk("job")),
    "schema": ApiRoute({"GET": PUBLIC}),
    "docs": ApiRoute({"GET": PUBLIC}),
}

CASES = [(name, method) for name, route in sorted(ROUTES.items()) for method in route.methods]
PRIVATE = [(n, m) for n, m in CASES if ROUTES[n].methods[m] != PUBLIC]


@pytest.fixture
def world(org, dpo):
    offers = PurposeFactory(organisation=org, code="offers")
    notice = published_notice(purposes=[offers])
    subject = DataSubjectFactory(organisation=org, phone="+34600000001")
    grant(subject, offers, notice)
    job = finished_certificate_job(org)
    return {
        "subject": subject.pk,
        "notice": notice.pk,
        "group": WhatsAppGroupFactory(organisation=org).pk,
        "request": logged_request(org, subject=subject, user=dpo).pk,
        "job": job.pk,
    }


def _call(client, name, method, world):
    route = ROUTES[name]
    url = reverse(f"api_v1:{name}", kwargs=route.kwargs(world))
    if method == "GET":
        return client.get(url, route.query(world))
    return client.post(url, route.body, content_type="application/json")


def test_every_api_route_has_an_access_rule():
    names = {n.split(":", 1)[1] for n in url_names() if n.startswith("api_v1:")}
    assert names == set(ROUTES), f"Add or remove in ROUTES: {sorted(names ^ set(ROUTES))}"


@pytest.mark.parametrize(("name", "method"), PRIVATE)
def test_each_view_asks_for_the_permission_its_rule_names(name, method):
    url = reverse(f"api_v1:{name}", kwargs=ROUTES[name].kwargs(_Keys()))
    view = resolve(url).func.view_class
    declared = view.permission
    if isinstance(declared, dict):
        declared = declared.get(method, declared.get("*"))
    assert declared == ROUTES[name].methods[method]
    assert declared in PERMISSIONS


@pytest.mark.parametrize(("name", "method"), CASES)
def test_without_a_key_only_the_schema_and_docs_answer(client, world, name, method):
    response = _call(client, name, method, world)
    if ROUTES[name].methods[method] == PUBLIC:
        assert response.status_code == 200
    else:
        assert response.status_code == 401


@pytest.mark.parametrize(
    ("name", "method", "scope"),
    [(n, m, scope) for n, m in PRIVATE for scope in Scope.values],
)
def test_a_key_answers_exactly_where_its_scope_grants_the_permission(
    org, dpo, world, name, method, scope, django_capture_on_commit_callbacks
):
    _key, plaintext = make_key(org, dpo, scopes=[scope])
    with django_capture_on_commit_callbacks(execute=True):
        response = _call(api_client(plaintext), name, method, world)
    if scopes_grant([scope], ROUTES[name].methods[method]):
        assert response.status_code in (200, 201, 202), response.content
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "method"), [(n, m) for n, m in PRIVATE if m == "GET" and ROUTES[n].names_a_row]
)
def test_another_organisations_key_gets_404_for_every_row(world, other_org, outsider, name, method):
    _key, plaintext = make_key(other_org, outsider)
    assert _call(api_client(plaintext), name, method, world).status_code == 404


@pytest.mark.parametrize(
    "name", [n for n, m in PRIVATE if m == "GET" and not ROUTES[n].names_a_row]
)
def test_another_organisations_key_lists_none_of_this_organisations_rows(
    world, other_org, outsider, name
):
    _key, plaintext = make_key(other_org, outsider)
    response = _call(api_client(plaintext), name, "GET", world)
    if name == "consent_check":
        # Their organisation has no purpose "offers": the question does not even parse.
        assert response.status_code == 400
        return
    assert response.status_code == 200
    assert response.json()["count"] == 0
