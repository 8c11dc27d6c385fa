"""Playwright journeys in Debian's chromium against pytest-django's live server.

Never `playwright install`: it downloads its own browsers, which fails here. We point Playwright at
/usr/bin/chromium instead (RECIPES.md, "Playwright with Debian's Chromium").
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

# Playwright's sync API keeps an event loop running in this thread for the rest of the session, so
# Django would refuse every later database query as "async unsafe" (tests here and after these).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_installed():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"CI must run the browser journeys: install Debian's chromium ({CHROMIUM})."
            )
        pytest.skip(
            f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser journeys."
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }
