"""Constancia settings: one module, driven by environment variables (see README, "Configuration").

The embedded default (no variables set) is a development setup: SQLite under var/, Celery tasks
run eagerly in-process, e-mail printed to the console, static files served from static/. Production
sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.

Two switches, on purpose: the environment variable DEBUG chooses development mode (the defaults
above, no HTTPS-only cookies), DEBUG_PAGES chooses Django's own DEBUG (tracebacks and the URL list
on error pages). The demo (`make run`) shows the app's own 404 and 500 pages, as a user would see
them; a developer who wants the debug pages sets DEBUG_PAGES=true, which production never honours.
"""

from contextlib import suppress
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Local data of the embedded default: the SQLite database, media, collected static files.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEVELOPMENT = env.bool("DEBUG", default=True)
DEBUG = DEVELOPMENT and env.bool("DEBUG_PAGES", default=False)
if DEVELOPMENT:
    # Only ever used on a developer's machine: production must set its own (no default there).
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghij")
else:
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "phonenumber_field",
    "simple_history",
    "axes",
    "csp",
    "accounts",
    "consents",
    "groups",
    "rights_requests",
    "processing",
    "evidence",
    "jobs",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: axes must see the final authentication result of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organisation",
                "groups.context_processors.pending_policy",
            ],
            # {% load direction %}: keeps phone numbers, versions, references left-to-right.
            "libraries": {"direction": "config.direction"},
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'constancia.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        # SQLite creates the file but not its folder: a fresh clone has no var/, and a bare
        # `manage.py migrate` would fail with "unable to open database file". A folder that cannot
        # be created (read-only image) is left to SQLite to report, and only if it is used.
        with suppress(OSError):
            Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several processes (web, eager tasks, management commands) share one file: wait for the lock
    # instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# Throttle repeated failed logins per username and IP (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Unambiguous dates in every language ("2 Dec 2026", never "12/02/2026"): config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
if "MEDIA_ROOT" not in env.ENVIRON:
    # The embedded default, like the database above: ready on a fresh clone.
    with suppress(OSError):
        MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
# Media is never served from a public URL: files are streamed by views that check membership.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Development mode serves static/ as it is (whitenoise, also under runserver, whatever DEBUG_PAGES
# says), picking up edits without collectstatic; production serves the collected, hashed files.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Constancia <no-reply@localhost>")

# Celery: Redis as broker and result store when REDIS_URL is set; otherwise Celery runs its few
# small tasks in-process (long jobs go to the thread runner instead: JOBS_RUNNER below).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "verify-consent-ledgers-nightly": {
        "task": "consents.tasks.verify_all_ledgers",
        "schedule": crontab(hour=3, minute=15),
    },
    "expire-export-files-nightly": {
        "task": "evidence.tasks.expire_export_files",
        "schedule": crontab(hour=4, minute=0),
    },
    # Rights requests due in 7 days, in 2 days, today, or overdue: one e-mail per stage to the
    # handler and the DPOs (rights_requests.reminders), every morning.
    "rights-request-reminders-daily": {
        "task": "rights_requests.tasks.send_deadline_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    # Webhook deliveries that failed and are due again (api.webhooks.RETRY_AFTER).
    "webhook-retries-every-minute": {
        "task": "api.tasks.deliver_webhooks",
        "schedule": crontab(),
    },
    # LOPDGDD Art. 32: blocked people whose blocking period has ended are purged.
    "purge-blocked-subjects-nightly": {
        "task": "rights_requests.tasks.purge_blocked_subjects",
        "schedule": crontab(hour=2, minute=30),
    },
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Security headers. Production (DEBUG=false) gets secure cookies, HSTS and HTTPS redirects.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEVELOPMENT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEVELOPMENT)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEVELOPMENT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEVELOPMENT)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEVELOPMENT)
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: only our own origin; no inline script, no third-party host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates every rendering step at INFO; fontTools reports each font subset.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Number of reverse proxies in front of the app that append to X-Forwarded-For (0: none, use
# REMOTE_ADDR). Decides which address the audit trail and the ledger record as the client's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Consent ledger. The HMAC key turns a subject's identifiers into an unreadable fingerprint in the
# ledger (invariant 3). Keep it secret and never change it: old fingerprints could no longer be
# checked. Production must set it; development derives one from SECRET_KEY.
if DEVELOPMENT:
    LEDGER_HMAC_KEY = env("LEDGER_HMAC_KEY", default="dev-ledger-key:" + SECRET_KEY)
else:
    LEDGER_HMAC_KEY = env("LEDGER_HMAC_KEY")
# Largest proof file accepted (bytes); larger uploads are refused with a message.
PROOF_MAX_BYTES = env.int("PROOF_MAX_BYTES", default=10 * 1024 * 1024)
# Largest photo accepted, in pixels (width x height, read from the header before decoding):
# a few-KB PNG can claim 144 megapixels and take gigabytes to decode. 50 MP lets through the 48 MP
# photos of recent iPhones (8064 x 6048); phones' rare 200 MP mode is refused with a message.
PROOF_MAX_PIXELS = env.int("PROOF_MAX_PIXELS", default=50_000_000)

# Self-service consent links (/c/<token>/, no login). CONSENT_LINK_DAYS: validity of a new link.
# The public pages are rate-limited per client IP and per token (accounts.ratelimit); override with
# CONSENT_RATE_GET_PER_IP (GETs a minute, default 30), CONSENT_RATE_POST_PER_IP (POSTs a minute,
# default 10) and CONSENT_RATE_PER_TOKEN (requests an hour on one link, default 60).
CONSENT_LINK_DAYS = env.int("CONSENT_LINK_DAYS", default=30)
CONSENT_RATE_GET_PER_IP = env.int("CONSENT_RATE_GET_PER_IP", default=30)
CONSENT_RATE_POST_PER_IP = env.int("CONSENT_RATE_POST_PER_IP", default=10)
CONSENT_RATE_PER_TOKEN = env.int("CONSENT_RATE_PER_TOKEN", default=60)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Panels on the organisation dashboard, in order (see accounts/dashboard.py).
DASHBOARD_PANELS = [
    "consents.dashboard.panel",
    "rights_requests.dashboard.panel",
    "groups.dashboard.checklist",
    "processing.dashboard.panel",
]
# Questions other apps add to the DPO's checklist (groups.checklist), in order: each a function
# (organisation) -> dict(question, status, figure, link).
CHECKLIST_QUESTIONS = [
    "rights_requests.checklist.answered_on_time",
    "processing.checklist.record_complete",
]

# Rights requests (rights_requests.public_views): the public request form takes at most
# RIGHTS_FORM_POSTS_PER_IP requests an hour from one address (default 5) and
# RIGHTS_FORM_POSTS_PER_ORG an hour for one organisation (default 200); a personal link sends
# at most RIGHTS_LINK_POSTS_PER_DAY a day (default 20). A one-time identity code shown on a
# personal link lasts RIGHTS_IDENTITY_CODE_MINUTES (default 30).
# Address of this installation (e.g. https://constancia.example.org), for links in e-mails sent
# from background tasks, which have no request to take it from. Empty: the links are paths.
SITE_URL = env("SITE_URL", default="")
RIGHTS_FORM_POSTS_PER_IP = env.int("RIGHTS_FORM_POSTS_PER_IP", default=5)
RIGHTS_FORM_POSTS_PER_ORG = env.int("RIGHTS_FORM_POSTS_PER_ORG", default=200)
RIGHTS_LINK_POSTS_PER_DAY = env.int("RIGHTS_LINK_POSTS_PER_DAY", default=20)
RIGHTS_IDENTITY_CODE_MINUTES = env.int("RIGHTS_IDENTITY_CODE_MINUTES", default=30)

# Evidence. The key that encrypts each organisation's signing certificate (PKCS#12) and its
# password at rest; production must set it. TSA_URL: an RFC 3161 timestamp authority; when set,
# signatures are PAdES B-T (trusted time), otherwise B-B.
if DEVELOPMENT:
    EVIDENCE_ENCRYPTION_KEY = env("EVIDENCE_ENCRYPTION_KEY", default="dev-evidence:" + SECRET_KEY)
else:
    EVIDENCE_ENCRYPTION_KEY = env("EVIDENCE_ENCRYPTION_KEY")
TSA_URL = env("TSA_URL", default="")
# Signed ledger checkpoints (consents/checkpoints.py) also leave the database: one file each in
# this directory (empty: none), and with CHECKPOINT_EMAIL an e-mail to the organisation's DPOs.
CHECKPOINT_EXPORT_DIR = env("CHECKPOINT_EXPORT_DIR", default="")
CHECKPOINT_EMAIL = env.bool("CHECKPOINT_EMAIL", default=False)
# ... and to an S3-compatible bucket (AWS, MinIO, Ceph, OVH, Scaleway...) through django-storages,
# as the storage "checkpoints": never overwriting a file. Credentials come from AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY (or the host's instance role), as boto3 reads them.
CHECKPOINT_EXPORT_BUCKET = env("CHECKPOINT_EXPORT_BUCKET", default="")
if CHECKPOINT_EXPORT_BUCKET:
    STORAGES["checkpoints"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": CHECKPOINT_EXPORT_BUCKET,
            "endpoint_url": env("CHECKPOINT_EXPORT_ENDPOINT_URL", default="") or None,
            "region_name": env("CHECKPOINT_EXPORT_REGION", default="") or None,
            "location": env("CHECKPOINT_EXPORT_PREFIX", default="").strip("/"),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": False,
        },
    }
# Days an export's file is kept; the job row stays for the record.
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=30)
# A running job whose heartbeat is older than this is presumed dead and may be taken over.
EXPORT_JOB_STALE_SECONDS = env.int("EXPORT_JOB_STALE_SECONDS", default=120)
# Who runs background jobs (jobs.tasks.job_enqueue): "celery" (workers through Redis), "thread"
# (daemon threads of the web process: pages return at once without Redis) or "inline" (inside the
# request, before the page returns: the test suite).
JOBS_RUNNER = env("JOBS_RUNNER", default="celery" if REDIS_URL else "thread")
if JOBS_RUNNER not in ("celery", "thread", "inline"):
    raise ImproperlyConfigured(f"JOBS_RUNNER must be celery, thread or inline, not {JOBS_RUNNER!r}")
if JOBS_RUNNER == "celery" and not REDIS_URL:
    # Without a broker Celery runs tasks eagerly: the page would block while saying otherwise.
    raise ImproperlyConfigured("JOBS_RUNNER=celery needs REDIS_URL (or use thread)")
# Threads of the "thread" runner: two let a certificate run while a long pack is being built.
JOBS_THREADS = env.int("JOBS_THREADS", default=2)
# Redis redelivers a task whose worker died without acknowledging it after this many seconds.
# Workers sweep for such orphaned tasks about every interval x throttle seconds (kombu defaults).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
# An evidence pack includes a signed certificate per subject up to this many subjects; above it,
# certificates are produced on request per subject (rendering one takes about half a second).
PACK_CERTIFICATE_LIMIT = env.int("PACK_CERTIFICATE_LIMIT", default=100)
# Processes that render a pack's certificates (0: one per core, at most 4; 1: the worker alone).
# Helpers are forked only on PostgreSQL, outside a transaction, from a single-threaded worker.
PACK_CERTIFICATE_PROCESSES = env.int("PACK_CERTIFICATE_PROCESSES", default=0)
# "Verify evidence" reads uploads from outside, which may be crafted: the upload is capped, each
# ZIP member is read only up to a cap whatever its header says, and all members together up to a
# budget (a 1 MB ZIP inflating to 1 GiB once held a worker for 150 s). A pack of 100,000 events
# has a records.json of about 130 MB.
VERIFY_MAX_UPLOAD_BYTES = env.int("VERIFY_MAX_UPLOAD_BYTES", default=512 * 1024 * 1024)
VERIFY_MAX_MEMBER_BYTES = env.int("VERIFY_MAX_MEMBER_BYTES", default=192 * 1024 * 1024)
# manifest.json is parsed whole: a 1 GiB one took 3.7 GB. A pack's is about 150 bytes a file.
VERIFY_MAX_MANIFEST_BYTES = env.int("VERIFY_MAX_MANIFEST_BYTES", default=32 * 1024 * 1024)
VERIFY_MAX_INFLATED_BYTES = env.int("VERIFY_MAX_INFLATED_BYTES", default=2 * 1024 * 1024 * 1024)
# Certificates in a pack whose signatures the page checks (about 0.03 s each); more are named.
VERIFY_MAX_CERTIFICATES = env.int("VERIFY_MAX_CERTIFICATES", default=1000)

# The REST API (api/): keys per organisation (Authorization: Bearer), scopes over the page
# permissions, JSON only. API_RATE_PER_KEY: calls a minute one key may make (default 6000).
API_RATE_PER_KEY = env.int("API_RATE_PER_KEY", default=6000)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.PerKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Constancia API",
    "DESCRIPTION": (
        "Consent checks, consent records with proof, rights requests and evidence exports for"
        " one organisation. Send the key its DPO made as `Authorization: Bearer <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_answers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SubjectKindEnum": "consents.models.DataSubject.Kind",
        "GroupKindEnum": "groups.models.WhatsAppGroup.Kind",
        "GroupStatusEnum": "groups.models.WhatsAppGroup.Status",
        "RequestStatusEnum": "rights_requests.choices.RequestStatus",
        "SubjectStatusEnum": "consents.choices.SubjectStatus",
        "LanguageEnum": "django.conf.settings.LANGUAGES",
    },
}
