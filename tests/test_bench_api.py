"""python -m bench api's parts that need no seeded register: the numbers it types, the server's
extra route, and the load generator."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.api import _typed
from bench.load import hammer
from consents.phones import parse_phone


def test_each_way_of_typing_a_number_reads_back_as_that_number():
    typed = [_typed("+34612345678", n) for n in range(3)]
    assert typed == ["612 345 678", "0034612345678", "+34 612 345 678"]
    assert {parse_phone(text, "ES").as_e164 for text in typed} == {"+34612345678"}


@pytest.mark.django_db
def test_the_bench_server_adds_a_bare_view_and_keeps_the_api(client, settings):
    settings.ROOT_URLCONF = "bench.api_urls"
    assert client.get("/bench/bare/").json() == {"allowed": True}
    assert client.get("/api/v1/purposes/").status_code == 401


class _Answer(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        status = 200 if self.path == "/ok" else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_the_load_generator_sends_every_call_and_counts_the_answers():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        calls = [("GET", "/ok", None, {})] * 9 + [("GET", "/missing", None, {})]
        result = hammer("127.0.0.1", server.server_address[1], calls, concurrency=2)
    finally:
        server.shutdown()
    assert result["statuses"] == {200: 9, 404: 1}
    assert len(result["times"]) == 10 and result["wall"] > 0
