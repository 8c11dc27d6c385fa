"""Pure functions of the hash chain and the identifier HMAC (ARCHITECTURE invariants 2 and 3)."""

import hashlib
import hmac
import json

from django.conf import settings


def canonical_json(data: dict) -> str:
    """Stable text of a record: sorted keys, no spaces, UTF-8 kept (names in any script)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, canonical: dict) -> str:
    return text_hash(prev_hash, canonical_json(canonical))


def text_hash(prev_hash: str, text: str) -> str:
    """The hash of an event whose canonical JSON is ``text`` (ConsentEvent.canonical_text): the
    same bytes event_hash hashes, so verification need not rebuild them from the columns."""
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def identifiers_hmac(identifiers: dict) -> str:
    """Keyed hash of who the person was at that moment: provable later, unreadable in the ledger.

    With the key, anyone can check that the name and number held today (or on a signed form) are
    the ones consent was recorded for; without it, the ledger reveals nothing about the person.
    """
    key = settings.LEDGER_HMAC_KEY.encode("utf-8")
    return hmac.new(key, canonical_json(identifiers).encode("utf-8"), hashlib.sha256).hexdigest()


def phone_hmac(organisation_id: int, e164: str) -> str:
    """Keyed hash of one organisation's view of a number (the suppression list): it recognises
    the number again without holding it, and differs between organisations, so two lists
    cannot be joined on it."""
    key = settings.LEDGER_HMAC_KEY.encode("utf-8")
    text = canonical_json({"organisation": organisation_id, "phone": e164, "use": "suppression"})
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
