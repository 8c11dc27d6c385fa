"""The access matrix, shared by every app (ARCHITECTURE invariant 1).

Each app describes its pages in ``tests/<app>/access.py`` as ``ROUTES``: URL name (inside the
app's namespace, e.g. ``"dashboard"`` for ``accounts:dashboard``) -> :class:`Route`.
``tests/test_access_matrix.py`` walks the URL configuration and fails for any named URL of a
project namespace that has no entry, then checks every entry against the fixed cast of
``tests/conftest.py`` (``dpo``, ``staff``, ``auditor`` of ``org``; ``outsider``, a DPO of
``other_org``).

Example, for a page that creates an object first::

    ROUTES = {
        "purpose_edit": Route(
            allowed=DPO,
            setup=lambda org: {"purpose": PurposeFactory(organisation=org).pk},
            kwargs=org_and_pk("purpose"),
        ),
    }
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

# Namespaces whose every named URL must appear in the matrix.
PROJECT_NAMESPACES = (
    "accounts",
    "consents",
    "groups",
    "rights_requests",
    "processing",
    "evidence",
    "jobs",
    "api",
)

ROLES = ("dpo", "staff", "auditor")
PUBLIC = "public"
ALL = frozenset(ROLES)
DPO = frozenset({"dpo"})
DPO_STAFF = frozenset({"dpo", "staff"})
DPO_AUDITOR = frozenset({"dpo", "auditor"})


def org_only(ctx: dict) -> dict:
    """kwargs of a page that needs nothing but the organisation."""
    return {"org_slug": ctx["org"].slug}


def org_and_pk(name: str) -> Callable[[dict], dict]:
    """kwargs of an organisation page about one object: the id ``setup`` returned as ``name``."""
    return lambda ctx: {"org_slug": ctx["org"].slug, "pk": ctx[name]}


def no_kwargs(ctx: dict) -> dict:
    return {}


@dataclass(frozen=True)
class Route:
    """Who may open one URL, and how to build a request to it.

    ``allowed`` is a set of roles among ``ROLES``, or ``PUBLIC`` for pages that need no login.
    ``setup(org)`` creates what the page needs and returns ids, merged into the context given to
    ``kwargs(ctx)`` and ``data(ctx)`` (``ctx["org"]`` is the organisation). A URL with an
    ``org_slug`` parameter is an organisation page: non-members must get 404.
    """

    allowed: frozenset[str] | str
    kwargs: Callable[[dict], dict] = no_kwargs
    method: str = "get"
    data: Callable[[dict], dict] | None = None
    setup: Callable[..., dict] | None = None

    def __post_init__(self):
        if self.method not in ("get", "post"):
            raise ValueError(f"Unknown method {self.method!r}")
        if self.allowed != PUBLIC and not (
            isinstance(self.allowed, frozenset) and self.allowed <= ALL
        ):
            raise ValueError(f"allowed must be {PUBLIC!r} or a set of roles among {ROLES}")

    @property
    def is_public(self) -> bool:
        return self.allowed == PUBLIC

    def allows(self, role: str) -> bool:
        return self.is_public or role in self.allowed


def url_names(resolver=None, namespace: str | None = None, params=frozenset()) -> dict[str, set]:
    """Every named URL below ``resolver``: "namespace:name" -> names of its URL parameters."""
    resolver = resolver or get_resolver()
    names = {}
    for pattern in resolver.url_patterns:
        here = params | set(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if namespace and inner:
                inner = f"{namespace}:{inner}"
            names |= url_names(pattern, inner or namespace, frozenset(here))
        elif isinstance(pattern, URLPattern) and pattern.name:
            names[f"{namespace}:{pattern.name}" if namespace else pattern.name] = here
    return names


def project_url_names() -> dict[str, set]:
    """Named URLs of the project namespaces -> names of their URL parameters."""
    return {
        name: params
        for name, params in url_names().items()
        if name.split(":", 1)[0] in PROJECT_NAMESPACES
    }


def _access_modules(app: str) -> list[str]:
    """tests/<app>/access.py, and any tests/<app>/<part>_access.py of an app whose pages are
    split between modules (rights_requests: the register and its fulfilment)."""
    names = [f"tests.{app}.access"]
    folder = Path(__file__).resolve().parent / app
    names += sorted(f"tests.{app}.{p.stem}" for p in folder.glob("*_access.py"))
    return names


def all_routes() -> dict[str, Route]:
    """ROUTES of every app that has a tests/<app>/access.py (or *_access.py), keyed by the
    full URL name."""
    routes = {}
    for app in PROJECT_NAMESPACES:
        for module_name in _access_modules(app):
            try:
                module = import_module(module_name)
            except ModuleNotFoundError as error:
                if error.name not in (module_name, f"tests.{app}"):
                    raise
                continue
            for name, route in module.ROUTES.items():
                full = name if ":" in name else f"{app}:{name}"
                if full in routes:
                    raise ValueError(f"{full} has two access rules")
                routes[full] = route
    return routes
