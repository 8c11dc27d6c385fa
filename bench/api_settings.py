"""Settings of the server `python -m bench api` starts: the project's own, plus one bare view.

Everything else (middleware, the API's authentication, throttle and cache) is as configured by the
environment, so the bare view and the consent check pay the same server, middleware and network.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
DEBUG = False
# A warning per refused call would cost the server and print thousands of lines.
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}  # noqa: F405
