"""Production settings pass Django's deployment checks; every page carries the security headers."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_"))
    }
    env |= {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "LEDGER_HMAC_KEY": secrets.token_urlsafe(32),
        "EVIDENCE_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "constancia.example",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env |= {"DEBUG": "false", "ALLOWED_HOSTS": "constancia.example"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize(("path", "logged_in"), [("/login/", False), ("/o/clinic/", True)])
def test_pages_carry_a_strict_content_security_policy(client, dpo, path, logged_in):
    if logged_in:
        client.force_login(dpo)
    response = client.get(path)
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_pages_cannot_be_framed(client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def _env_without_overrides(**extra: str) -> dict[str, str]:
    """This process's environment less every setting a test run may have pinned."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "STATIC_ROOT", "DEBUG", "DEBUG_PAGES")
        and not key.startswith("DJANGO_")
    }
    return env | extra


def test_a_bare_migrate_on_a_fresh_clone_creates_var_and_its_media_folder(tmp_path):
    var = tmp_path / "fresh-clone" / "var"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=_env_without_overrides(VAR_DIR=str(var)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (var / "constancia.sqlite3").stat().st_size > 0
    assert (var / "media").is_dir()


def test_an_sqlite_database_url_gets_its_folder_created(tmp_path):
    database = tmp_path / "elsewhere" / "deep" / "db.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=_env_without_overrides(
            DATABASE_URL=f"sqlite:///{database}", VAR_DIR=str(tmp_path / "var")
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.parent.is_dir()


def _settings_in_a_fresh_process(tmp_path, **env: str) -> dict:
    code = (
        "from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'DEVELOPMENT': s.DEVELOPMENT, "
        "'finders': s.WHITENOISE_USE_FINDERS, 'ssl': s.SECURE_SSL_REDIRECT}))"
    )
    return _in_a_fresh_process(tmp_path, code, **env)


def _in_a_fresh_process(tmp_path, code: str, **env: str):
    """What ``code`` prints as JSON, run after django.setup() in a process of its own with
    ``env`` (settings are read once, at start-up)."""
    result = subprocess.run(
        [sys.executable, "-c", "import json, django; django.setup(); " + code],
        cwd=BASE_DIR,
        env=_env_without_overrides(
            DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path / "var"), **env
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_development_mode_shows_the_apps_own_error_pages_unless_asked(tmp_path):
    assert _settings_in_a_fresh_process(tmp_path) == {
        "DEBUG": False,
        "DEVELOPMENT": True,
        "finders": True,
        "ssl": False,
    }
    assert _settings_in_a_fresh_process(tmp_path, DEBUG_PAGES="true")["DEBUG"] is True


def test_production_never_shows_debug_pages(tmp_path):
    production = _settings_in_a_fresh_process(
        tmp_path,
        DEBUG="false",
        DEBUG_PAGES="true",
        SECRET_KEY="x" * 50,
        LEDGER_HMAC_KEY="y",
        EVIDENCE_ENCRYPTION_KEY="z",
    )
    assert production["DEBUG"] is False
    assert production["DEVELOPMENT"] is False
    assert production["finders"] is False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def runserver(tmp_path):
    """runserver(**env) -> base URL of `manage.py runserver` as `make run` starts it."""
    started = []

    def start(**env: str) -> str:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=BASE_DIR,
            env=_env_without_overrides(VAR_DIR=str(tmp_path / "var"), **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return f"http://127.0.0.1:{port}"
            assert process.poll() is None, "runserver exited"
            time.sleep(0.2)
        raise AssertionError("runserver did not answer within 60 s")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_make_run_serves_static_files_and_the_apps_own_404(runserver):
    base = runserver()
    status, css = _get(f"{base}/static/css/app.css")
    assert status == 200
    assert "Constancia" in css
    status, page = _get(f"{base}/no-such-page/")
    assert status == 404
    assert "Page not found" in page
    assert "URLconf" not in page


def test_a_developer_can_still_ask_for_the_debug_404(runserver):
    base = runserver(DEBUG_PAGES="true")
    status, page = _get(f"{base}/no-such-page/")
    assert status == 404
    assert "URLconf" in page
    assert _get(f"{base}/static/css/app.css")[0] == 200


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("language", "text", "direction"),
    [("en", "Something went wrong", "ltr"), ("ar", "حدث خطأ ما", "rtl")],
)
def test_a_server_error_shows_the_apps_own_500_page(client, language, text, direction):
    client.raise_request_exception = False
    client.cookies["django_language"] = language
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert text in page
    assert f'dir="{direction}"' in page
    assert "/static/css/app.css" in page
    assert "Traceback" not in page


def test_a_checkpoint_bucket_is_configured_from_the_environment(tmp_path):
    code = (
        "from django.core.files.storage import storages; s = storages['checkpoints']; "
        "print(json.dumps([type(s).__name__, s.bucket_name, s.endpoint_url, s.location, "
        "s.file_overwrite, s.region_name]))"
    )
    storage = _in_a_fresh_process(
        tmp_path,
        code,
        CHECKPOINT_EXPORT_BUCKET="dpo-archive",
        CHECKPOINT_EXPORT_ENDPOINT_URL="https://s3.example.test",
        CHECKPOINT_EXPORT_PREFIX="/constancia/",
        CHECKPOINT_EXPORT_REGION="eu-south-2",
    )
    assert storage == [
        "S3Storage",
        "dpo-archive",
        "https://s3.example.test",
        "constancia",
        False,
        "eu-south-2",
    ]
