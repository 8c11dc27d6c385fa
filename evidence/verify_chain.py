#!/usr/bin/env python3
"""Check the consent events of a Constancia evidence pack against their hash chain.

Shipped inside every pack; needs only Python 3 and its standard library, so a regulator can run
it without Constancia:

    python3 verify_chain.py                  (in the folder the pack was extracted to)
    python3 verify_chain.py path/to/records.json --manifest path/to/manifest.json

Each event in records.json carries ``hashed_fields`` (exactly what the ledger hashed), its
``prev_hash`` and its ``hash``, where

    hash = SHA-256(prev_hash + canonical JSON of hashed_fields)

and canonical JSON means: keys sorted, no spaces, UTF-8 kept as is. What can be checked here:
the hash of every event in the pack; the link (prev_hash = hash of the event before) wherever
both sequence numbers are in the pack (a pack holds the events of its scope only, so events of
other purposes, dates or people leave gaps); that the readable fields say what the hashed ones
say; and the chain head recorded in manifest.json. Prints "OK: ..." and exits 0, or
"BROKEN at sequence N: ..." for the first broken sequence and exits 1.
"""

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime

GENESIS_HASH = "0" * 64

# Readable field -> the hashed field it must agree with (same value, or the same instant).
SAME_VALUE = {
    "subject_id": "subject",
    "action": "action",
    "collection_method": "channel",
    "given_by": "given_by",
    "identifiers_hmac": "subject_hmac",
    "ip_address": "ip_address",
    "user_agent": "user_agent",
}
SAME_INSTANT = {"captured_at": "captured_at", "recorded_at": "recorded_at"}


class Broken(Exception):
    def __init__(self, sequence, reason):
        super().__init__(reason)
        self.sequence, self.reason = sequence, reason


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, hashed_fields: dict) -> str:
    return hashlib.sha256((prev_hash + canonical_json(hashed_fields)).encode("utf-8")).hexdigest()


def _events(data):
    # records.json is a list of events; a certificate's consent-records.json holds them in "events".
    if isinstance(data, dict):
        data = data.get("events")
    if not isinstance(data, list):
        raise Broken(None, "the file holds no list of events")
    return data


def _instant(text):
    # The readable time is local and to the second; the hashed one is UTC to the microsecond.
    try:
        return datetime.fromisoformat(text).replace(microsecond=0)
    except (TypeError, ValueError):
        return text


def _check_event(event, index):
    if not isinstance(event, dict):
        raise Broken(None, f"entry {index + 1} is not an event record")
    sequence = event.get("sequence")
    fields = event.get("hashed_fields")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise Broken(None, f"entry {index + 1} has no sequence number")
    if not isinstance(fields, dict):
        raise Broken(sequence, "the record has no hashed_fields")
    for name in ("prev_hash", "hash"):
        if not isinstance(event.get(name), str):
            raise Broken(sequence, f"the record has no {name}")
    if fields.get("sequence") != sequence:
        raise Broken(sequence, "its sequence differs from the hashed one")
    if event_hash(event["prev_hash"], fields) != event["hash"]:
        raise Broken(sequence, "its content no longer matches its hash (the event was altered)")
    if event.get("record_id", event["hash"]) != event["hash"]:
        raise Broken(sequence, "record_id differs from the hash")
    for readable, hashed in SAME_VALUE.items():
        if readable in event and event[readable] != fields.get(hashed):
            raise Broken(sequence, f"{readable} differs from the hashed {hashed}")
    for readable, hashed in SAME_INSTANT.items():
        if readable in event and _instant(event[readable]) != _instant(fields.get(hashed)):
            raise Broken(sequence, f"{readable} differs from the hashed {hashed}")
    purpose = event.get("purpose")
    if isinstance(purpose, dict) and purpose.get("id") != fields.get("purpose"):
        raise Broken(sequence, "purpose differs from the hashed purpose")
    return sequence


def verify(events, head=None) -> list[str]:
    """The lines of an OK report; raises Broken at the first problem, in sequence order."""
    checked, links, gaps, previous = 0, 0, 0, None
    for index, event in enumerate(events):
        sequence = _check_event(event, index)
        if previous is not None and sequence <= previous["sequence"]:
            raise Broken(sequence, f"it comes after sequence {previous['sequence']}: out of order")
        if sequence == 1 and event["prev_hash"] != GENESIS_HASH:
            raise Broken(1, "the first event of the ledger does not start from the genesis hash")
        if previous is not None and sequence == previous["sequence"] + 1:
            if event["prev_hash"] != previous["hash"]:
                raise Broken(sequence, "it does not link to the hash of the event before it")
            links += 1
        elif previous is not None:
            gaps += 1
        previous, checked = event, checked + 1
    lines = [f"OK: {checked} events; the hash of every one recomputed and matching."]
    lines.append(
        f"{links} links between consecutive sequence numbers checked; {gaps} gaps where the "
        "events in between are outside this pack's scope (links across them cannot be checked "
        "here)."
    )
    if head is not None:
        head_sequence, head_hash = head
        if previous is not None and previous["sequence"] > head_sequence:
            raise Broken(previous["sequence"], f"it is after the recorded head #{head_sequence}")
        at_head = next((e for e in events if e["sequence"] == head_sequence), None)
        if at_head is not None and at_head["hash"] != head_hash:
            raise Broken(head_sequence, "its hash differs from the chain head in manifest.json")
        lines.append(
            f"Chain head when the pack was made: #{head_sequence} {head_hash}"
            + (" (in this pack, matching)." if at_head is not None else " (not in this pack).")
        )
    return lines


def _head(manifest_path):
    if not manifest_path or not os.path.exists(manifest_path):
        return None
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    ledger = manifest.get("ledger") if isinstance(manifest, dict) else None
    if not isinstance(ledger, dict):
        return None
    sequence, head_hash = ledger.get("head_sequence"), ledger.get("head_hash")
    if isinstance(sequence, int) and isinstance(head_hash, str):
        return sequence, head_hash
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="?", default="records.json")
    parser.add_argument("--manifest", help="default: manifest.json beside the records")
    args = parser.parse_args(argv)
    manifest = args.manifest or os.path.join(os.path.dirname(args.records), "manifest.json")
    try:
        with open(args.records, encoding="utf-8") as handle:
            events = _events(json.load(handle))
        lines = verify(events, _head(manifest))
    except Broken as broken:
        where = f"at sequence {broken.sequence}" if broken.sequence is not None else "in the file"
        print(f"BROKEN {where}: {broken.reason}.")
        return 1
    except (OSError, ValueError, RecursionError) as error:
        print(f"BROKEN in the file: it cannot be read ({type(error).__name__}: {error}).")
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
