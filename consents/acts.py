"""The consent act: the one value that travels from a form (or an import row, a public page, an
invite) to the ledger. Forms build it, services take it whole, consent_record_many writes it.

Adding something the ledger records about an act means adding a field here (and its column on
ConsentEvent, and its key in ConsentEvent.canonical()): no signature between the form and the
ledger names the act's fields one by one.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from .models import Action, ConsentEvent, DataSubject, GivenBy, NoticeVersion, Proof, Purpose


@dataclass(frozen=True)
class Decision:
    """What the person decided for one purpose, and the notice version they were shown."""

    purpose: Purpose
    action: str
    notice: NoticeVersion | None = None


@dataclass(frozen=True)
class ConsentAct:
    """One act of one person, for one or more purposes (GDPR Art. 7(1): who, when, how, what
    they were told, the proof, who recorded it and from where)."""

    decisions: list[Decision]
    channel: str
    subject: DataSubject | None = None
    captured_at: datetime | None = None
    recorded_by: object | None = None  # accounts.User; None when the person acted themself
    by_subject: bool = False
    given_by: str = GivenBy.SUBJECT
    proof: Proof | None = None
    ip_address: str | None = None
    user_agent: str = ""
    idempotency_key: str = ""
    confirms: ConsentEvent | None = None

    def but(self, **changes) -> "ConsentAct":
        """The same act with some fields filled in (the subject once found, the proof once kept)."""
        return replace(self, **changes)

    def ledger_fields(self, *, now: datetime) -> dict:
        """The ConsentEvent columns this act gives to each of its events."""
        return {
            "subject": self.subject,
            "channel": self.channel,
            "captured_at": self.captured_at or now,
            "recorded_at": now,
            "recorded_by": self.recorded_by,
            "by_subject": self.by_subject,
            "given_by": self.given_by,
            "proof": self.proof,
            "proof_digests": self.proof.digests() if self.proof else [],
            "ip_address": self.ip_address or None,
            "user_agent": (self.user_agent or "")[:400],
            "confirms": self.confirms,
            "idempotency_key": self.idempotency_key,
        }


def withdrawal(purpose: Purpose) -> list[Decision]:
    """GDPR Art. 7(3): a withdrawal names the purpose and nothing else (no reason is asked)."""
    return [Decision(purpose=purpose, action=Action.WITHDRAWN)]


@dataclass(frozen=True)
class PersonDetails:
    """Who the person is, as staff typed it at capture (personal data: DataSubject, not ledger)."""

    phone: object  # a phonenumbers.PhoneNumber (consents.phones.parse_phone)
    full_name: str = ""
    kind: str = DataSubject.Kind.CUSTOMER
    email: str = ""
    preferred_language: str | None = None
    is_minor: bool = False
    guardian_name: str = ""


@dataclass(frozen=True)
class ProofInput:
    """What shows the act, before it is stored: a quoted reply, a note, inspected files."""

    quote: str = ""
    note: str = ""
    files: list = field(default_factory=list)  # consents.uploads.InspectedUpload
