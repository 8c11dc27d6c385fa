#!/usr/bin/env python3
"""Check the consent events of a Constancia evidence pack against their hash chain.

Shipped inside every pack; needs only Python 3 and its standard library, so a regulator can run
it without Constancia:

    python3 verify_chain.py                  (in the folder the pack was extracted to)
    python3 verify_chain.py path/to/records.json --manifest path/to/manifest.json \
        --checkpoints path/to/checkpoints/checkpoints.json

Each event in records.json carries ``hashed_fields`` (exactly what the ledger hashed), its
``prev_hash`` and its ``hash``, where

    hash = SHA-256(prev_hash + canonical JSON of hashed_fields)

and canonical JSON means: keys sorted, no spaces, UTF-8 kept as is. What can be checked here:
the hash of every event in the pack; the link (prev_hash = hash of the event before) wherever
both sequence numbers are in the pack (a pack holds the events of its scope only, so events of
other purposes, dates or people leave gaps); that the readable fields say what the hashed ones
say; the chain head recorded in manifest.json; and the controller's signed checkpoints in
checkpoints/ (the event at a checkpoint's sequence, where it is in the pack, has the hash the
checkpoint signed, and the chain head is not below any checkpoint: a head that went backwards
means the newest events were removed). Checkpoint signatures need OpenSSL (VERIFY.txt), which
the standard library cannot replace. Prints "OK: ..." and exits 0, or
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


def verify(events, head=None, checkpoints=None) -> list[str]:
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
    if checkpoints:
        lines.append(_check_checkpoints(events, head, checkpoints))
    return lines


def _check_checkpoints(events, head, checkpoints) -> str:
    """Each checkpoint pins the chain: its event keeps the signed hash, the head never goes
    back below it. Raises Broken at the lowest contradiction."""
    by_sequence = {e["sequence"]: e for e in events}
    inside = 0
    for point in sorted(checkpoints, key=lambda p: p["sequence"]):
        sequence, signed_hash, at = point["sequence"], point["head_hash"], point["at"]
        event = by_sequence.get(sequence)
        if event is not None:
            inside += 1
            if event["hash"] != signed_hash:
                raise Broken(
                    sequence,
                    f"its hash differs from {signed_hash}, which the checkpoint signed on {at} "
                    "recorded for it (the ledger was rewritten)",
                )
        if head is None:
            continue
        head_sequence, head_hash = head
        if head_sequence < sequence:
            raise Broken(
                head_sequence + 1,
                f"the checkpoint signed on {at} recorded the chain head #{sequence} "
                f"{signed_hash}, but the chain head in manifest.json is #{head_sequence}: the "
                f"ledger went backwards, events #{head_sequence + 1} to #{sequence} were removed",
            )
        if head_sequence == sequence and head_hash != signed_hash:
            raise Broken(
                sequence,
                f"the chain head in manifest.json differs from {signed_hash}, which the "
                f"checkpoint signed on {at} recorded (the ledger was rewritten)",
            )
    return (
        f"{len(checkpoints)} signed checkpoints checked: the chain head is not below any of them"
        f" and the {inside} at an event in this pack match its hash (signatures: see VERIFY.txt)."
    )


def _checkpoints(index_path):
    """The signed statements listed in checkpoints/checkpoints.json (None without the file)."""
    if not index_path or not os.path.exists(index_path):
        return None
    base = os.path.dirname(os.path.dirname(os.path.abspath(index_path)))
    with open(index_path, encoding="utf-8") as handle:
        index = json.load(handle)
    if not isinstance(index, list):
        raise Broken(None, "checkpoints/checkpoints.json holds no list of checkpoints")
    points = []
    for entry in index:
        name = entry.get("statement") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not os.path.exists(os.path.join(base, name)):
            raise Broken(None, f"the checkpoint statement {name} is missing")
        # The statement file is what was signed: its words count, not the index's.
        with open(os.path.join(base, name), encoding="utf-8") as handle:
            statement = json.load(handle)
        sequence = statement.get("sequence") if isinstance(statement, dict) else None
        signed_hash = statement.get("head_hash") if isinstance(statement, dict) else None
        if not isinstance(sequence, int) or not isinstance(signed_hash, str):
            raise Broken(None, f"the checkpoint statement {name} is not a checkpoint")
        if (entry.get("sequence"), entry.get("head_hash")) != (sequence, signed_hash):
            raise Broken(sequence, f"checkpoints.json differs from the signed {name}")
        points.append({"sequence": sequence, "head_hash": signed_hash, "at": statement.get("at")})
    return points


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
    parser.add_argument(
        "--checkpoints", help="default: checkpoints/checkpoints.json beside the records"
    )
    args = parser.parse_args(argv)
    folder = os.path.dirname(args.records)
    manifest = args.manifest or os.path.join(folder, "manifest.json")
    index = args.checkpoints or os.path.join(folder, "checkpoints", "checkpoints.json")
    try:
        with open(args.records, encoding="utf-8") as handle:
            events = _events(json.load(handle))
        lines = verify(events, _head(manifest), _checkpoints(index))
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
