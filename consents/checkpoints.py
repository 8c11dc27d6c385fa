"""Signed checkpoints of the chain head: what they say, and whether the ledger still agrees.

The hash chain proves that no event inside it was changed, but not that the newest events are
all still there: whoever can write to the database can delete the last events and rewind
LedgerHead to match, and the chain that is left verifies. A checkpoint (a signed tree head in
Certificate Transparency's words, RFC 6962 3.5) is the organisation's signed statement
"on <date> our chain stood at #N with hash H". A copy kept outside the database (the DPO's
archive, CHECKPOINT_EXPORT_DIR, an e-mail, every pack and certificate) pins the head: the chain
must still hold H at #N, and must never again end below N.

This module only reads: what a checkpoint statement is, which claims the database already holds
(checkpoints and earlier successful checks) and how a chain contradicts them. Signing needs the
organisation's key, which lives in the evidence app; evidence registers its signer here
(``register_signer``), so consents never imports evidence.
"""

import base64
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import chain
from .models import ConsentEvent, IntegrityCheck, LedgerCheckpoint

STATEMENT_FORMAT = "constancia-ledger-checkpoint/1"
BUNDLE_FORMAT = "constancia-ledger-checkpoint-bundle/1"


def statement_bytes(*, organisation, sequence: int, head_hash: str, at: datetime.datetime) -> bytes:
    """The exact bytes an organisation signs: canonical JSON (consents.chain.canonical_json)."""
    return chain.canonical_json(
        {
            "format": STATEMENT_FORMAT,
            "organisation": organisation.pk,
            "organisation_slug": organisation.slug,
            "organisation_name": organisation.legal_name,
            "sequence": sequence,
            "head_hash": head_hash,
            "at": at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
        }
    ).encode("utf-8")


def bundle(checkpoint: LedgerCheckpoint) -> dict:
    """One self-contained file per checkpoint: what the DPO archives and may upload back."""
    token = bytes(checkpoint.timestamp_token or b"")
    return {
        "format": BUNDLE_FORMAT,
        "statement": checkpoint.statement,
        "signature_cms_der_base64": base64.b64encode(bytes(checkpoint.signature)).decode(),
        "timestamp_token_der_base64": base64.b64encode(token).decode() if token else None,
        "signer_certificate_pem": checkpoint.certificate_pem,
        "how_to_verify": (
            "Write 'statement' to checkpoint.json exactly (no added newline) and the base64 of "
            "'signature_cms_der_base64' decoded to checkpoint.p7s, then: openssl cms -verify "
            "-binary -inform DER -in checkpoint.p7s -content checkpoint.json -purpose any "
            "-CAfile signer-certificate.pem -out /dev/null"
        ),
    }


def bundle_bytes(checkpoint: LedgerCheckpoint) -> bytes:
    return json.dumps(bundle(checkpoint), indent=1, ensure_ascii=False).encode("utf-8")


# --- holding the chain against what was recorded before -------------------------------------


@dataclass(frozen=True)
class Claim:
    """'The chain stood at #sequence with head_hash', and who said so (for the message)."""

    sequence: int
    head_hash: str
    source: str


def _when(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def checkpoint_claim(checkpoint: LedgerCheckpoint, source: str = "") -> Claim:
    return Claim(
        checkpoint.sequence,
        checkpoint.head_hash,
        source or _("The checkpoint signed on %(when)s") % {"when": _when(checkpoint.signed_at)},
    )


def stored_claims(organisation) -> list[Claim]:
    """Every head the database says it once had: signed checkpoints, and every successful
    IntegrityCheck (each recorded the head it verified; before checkpoints they were never
    compared, so a rewound head went unnoticed)."""
    claims = [
        checkpoint_claim(c)
        for c in LedgerCheckpoint.objects.filter(organisation=organisation, sequence__gt=0)
    ]
    checks = IntegrityCheck.objects.filter(organisation=organisation, ok=True, head_sequence__gt=0)
    claims += [
        Claim(
            c.head_sequence,
            c.head_hash,
            _("The verification of %(when)s") % {"when": _when(c.checked_at)},
        )
        for c in checks.only("head_sequence", "head_hash", "checked_at")
    ]
    return claims


def contradiction(
    *, organisation, head_sequence: int, claims: list[Claim]
) -> tuple[int, str] | None:
    """The first broken sequence and why, if the chain (verified, ending at ``head_sequence``)
    disagrees with any claim; None when it holds every one.

    Checked in sequence order, so the lowest contradiction is named: an event whose hash is no
    longer the one recorded (the chain was rewritten from there or before), or a recorded head
    beyond today's end of the chain (events were removed and the head rewound).
    """
    # One claim per (sequence, hash): the oldest source says it best; nightly checks repeat.
    unique: dict[tuple[int, str], Claim] = {}
    for claim in claims:
        unique.setdefault((claim.sequence, claim.head_hash), claim)
    ordered = sorted(unique.values(), key=lambda c: c.sequence)
    inside = sorted({c.sequence for c in ordered if c.sequence <= head_sequence})
    hashes: dict[int, str] = {}
    for start in range(0, len(inside), 1000):
        hashes.update(
            ConsentEvent.objects.filter(
                organisation=organisation, sequence__in=inside[start : start + 1000]
            ).values_list("sequence", "hash")
        )
    for claim in ordered:
        if claim.sequence > head_sequence:
            return head_sequence + 1, _(
                "%(source)s recorded the chain head #%(n)s %(hash)s; the ledger now ends at "
                "#%(end)s: events #%(first)s to #%(n)s were removed."
            ) % {
                "source": claim.source,
                "n": claim.sequence,
                "hash": claim.head_hash,
                "end": head_sequence,
                "first": head_sequence + 1,
            }
        if hashes.get(claim.sequence) != claim.head_hash:
            return claim.sequence, _(
                "%(source)s recorded event #%(n)s with hash %(hash)s; the event #%(n)s no longer "
                "has that hash: the ledger was rewritten."
            ) % {"source": claim.source, "n": claim.sequence, "hash": claim.head_hash}
    return None


# --- signing, provided by the evidence app ---------------------------------------------------

_signers: list[Callable[[IntegrityCheck], object]] = []


def register_signer(signer: Callable[[IntegrityCheck], object]) -> None:
    """Called once by evidence.apps: ``signer(check)`` signs a checkpoint of a verified head."""
    if signer not in _signers:
        _signers.append(signer)


def sign_after_verification(check: IntegrityCheck) -> None:
    """At every successful verification the organisation signs the head it verified."""
    if not check.ok:
        return
    for signer in _signers:
        signer(check)
