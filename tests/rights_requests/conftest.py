import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_rate_limits):
    """The public pages count on the shared cache: each test starts with an empty window."""


@pytest.fixture
def quick_letters(monkeypatch):
    """Letters with a fixed stand-in for the PDF, for tests about the workflow around them
    (rendering and signing take half a second each; test_letters.py renders them for real)."""
    from rights_requests import letters

    def fake_pdf(*, letter, **kwargs):
        return b"%PDF-1.7\n% " + letter.kind.encode() + b" " + letter.body.encode()[:40] + b"\n"

    monkeypatch.setattr(letters, "letter_pdf", fake_pdf)
