"""The rule book: everything that is checked when someone consents, refuses or withdraws.

Each rule is a pure function over objects already loaded: it reads no database and writes
nothing, and raises ValidationError with the message a person sees. The ledger service
(consents.services), the import checker (consents.imports, which turns each error into a line of
its per-row report), the groups service and the public pages all call these functions; none of
them re-implements a check. A reader or an auditor finds here, in one file, what the law asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Action, Channel, GivenBy, PurposeCategory, SubjectStatus

if TYPE_CHECKING:
    from .models import DataSubject, NoticeVersion, Purpose

# Clocks of phones and servers differ: an act "now" may arrive stamped a little ahead.
CLOCK_SLACK = timedelta(minutes=5)


# --- the person -----------------------------------------------------------------------------


def ensure_recordable(subject: DataSubject) -> None:
    """LOPDGDD Art. 32 and GDPR Art. 17/18: a blocked person's data is kept only for courts and
    authorities; nothing new is recorded about them, by anyone, through any channel."""
    if subject.status == SubjectStatus.BLOCKED:
        raise ValidationError(
            _("This person's data is blocked (erasure requested): nothing can be recorded."),
            code="blocked",
        )
    if subject.status == SubjectStatus.PURGED:
        raise ValidationError(
            _("This person's data was purged after an erasure: nothing can be recorded."),
            code="purged",
        )


def ensure_not_restricted(subject: DataSubject) -> None:
    """GDPR Art. 18(2): while processing is restricted, the data is only stored: no consent is
    asked for or captured and no message is sent until the restriction is lifted (Art. 18(3)).
    Withdrawals stay possible: they only reduce what is done with the data."""
    if subject.status == SubjectStatus.RESTRICTED:
        raise ValidationError(
            _(
                "Processing of this person's data is restricted (GDPR Art. 18): no consent can"
                " be captured and no message sent until the restriction is lifted."
            ),
            code="restricted",
        )


def ensure_consented(purpose: Purpose, *, current_action: str | None) -> None:
    """GDPR Art. 6(1)(a) and LSSI Art. 21: a purpose that needs consent is used only while the
    person's latest answer for it is a grant."""
    if purpose.requires_consent and current_action != Action.GRANTED:
        raise ValidationError(
            _("No consent to “%(purpose)s” is on record for this number.")
            % {"purpose": purpose.name},
            code="no_consent",
        )


def suppression_applies(purpose: Purpose) -> bool:
    """GDPR Art. 21(3): the suppression list (an objection to direct marketing) bars marketing
    purposes only; a reader may skip looking a number up for any other."""
    return purpose.category == PurposeCategory.MARKETING


def ensure_not_suppressed(purpose: Purpose, *, suppressed: bool) -> None:
    """GDPR Art. 21(3) and LOPDGDD Art. 23: once a person objects to direct marketing, their
    number is never again asked for, or recorded as granting, marketing."""
    if suppressed and suppression_applies(purpose):
        raise ValidationError(
            _(
                "This number objected to direct marketing (GDPR Art. 21(3)): consent to"
                " “%(purpose)s” cannot be recorded for it."
            )
            % {"purpose": purpose.name},
            code="suppressed",
        )


def ensure_own_subject(subject: DataSubject | None, organisation_id: int) -> None:
    """Invariant 1: an organisation records only about its own people."""
    if subject is None or subject.organisation_id != organisation_id:
        raise ValidationError(_("Unknown person."), code="unknown_person")


def ensure_guardian(*, is_minor: bool, guardian_name: str) -> None:
    """LOPDGDD Art. 7: under 14, the holder of parental authority is the one who consents."""
    if is_minor and not (guardian_name or "").strip():
        raise ValidationError(
            _("Under 14, the parent or guardian consents: enter their name (LOPDGDD Art. 7)."),
            code="guardian",
        )


def ensure_fits(purpose: Purpose, kind: str) -> None:
    """GDPR Art. 5(1)(b)-(c): a purpose meant for one kind of person (employees, say) is never
    offered to, or recorded for, another kind (a customer)."""
    if purpose.audience and purpose.audience != kind:
        raise ValidationError(
            _("“%(purpose)s” is only for people of the kind “%(audience)s”.")
            % {"purpose": purpose.name, "audience": purpose.get_audience_display()},
            code="audience",
        )


# --- the act --------------------------------------------------------------------------------


def ensure_answered(decisions: list) -> None:
    """GDPR Art. 4(11): consent is a clear affirmative act, for specified purposes."""
    if not decisions:
        raise ValidationError(_("Choose at least one purpose."), code="no_purpose")


def ensure_each_purpose_once(decisions: list) -> None:
    """EDPB Guidelines 05/2020: one answer per purpose, so an act cannot say yes and no at once."""
    if len({d.purpose.pk for d in decisions}) != len(decisions):
        raise ValidationError(_("Each purpose can be answered once per capture."), code="twice")


# The choices as sets, made once: Django's Choices.values builds a new list at every use, and
# these are checked at every append.
_CHANNELS = frozenset(Channel.values)
_GIVEN_BY = frozenset(GivenBy.values)
_ACTIONS = frozenset(Action.values)


def ensure_channel(channel: str) -> None:
    """GDPR Art. 7(1): how the person gave their answer is part of the proof."""
    if channel not in _CHANNELS:
        raise ValidationError(_("Choose how the person gave their answer."), code="channel")


def ensure_given_by(given_by: str) -> None:
    if given_by not in _GIVEN_BY:
        raise ValidationError(_("Unknown consenting person."), code="given_by")


def ensure_action(action: str) -> None:
    if action not in _ACTIONS:
        raise ValidationError(_("Unknown action."), code="action")


def ensure_not_in_future(captured_at: datetime | None, *, now: datetime) -> None:
    """GDPR Art. 7(1): the moment recorded is when the person acted, which cannot be ahead."""
    if captured_at is not None and captured_at > now + CLOCK_SLACK:
        raise ValidationError(
            _("The moment the person acted cannot be in the future."), code="future"
        )


def ensure_not_older(captured_at: datetime, *, latest: datetime | None) -> None:
    """Invariant 5 (current state is the latest answer): an answer older than one the register
    already holds for the same person and purpose cannot become their current state."""
    if latest is not None and captured_at < latest:
        raise ValidationError(
            _(
                "The register already holds a later answer (%(when)s) of this person for this"
                " purpose: an older answer cannot replace it."
            )
            % {"when": f"{timezone.localtime(latest):%Y-%m-%d %H:%M}"},
            code="older",
        )


# --- one purpose ----------------------------------------------------------------------------


def ensure_own_purpose(purpose: Purpose, organisation_id: int) -> None:
    """Invariant 1: an organisation records only its own purposes."""
    if purpose.organisation_id != organisation_id:
        raise ValidationError(_("Unknown purpose."), code="unknown_purpose")


def ensure_offered(purpose: Purpose, offered: Iterable[int]) -> None:
    """A link or an invite records only the purposes it showed the person."""
    if purpose.pk not in set(offered):
        raise ValidationError(_("Unknown purpose."), code="unknown_purpose")


def notice_covers(notice: NoticeVersion, purpose: Purpose) -> bool:
    """Whether the notice informs of this purpose; uses the notice's prefetched purposes or the
    ``purpose_ids`` a caller cached on it, so a batch of acts asks the database once."""
    ids = getattr(notice, "purpose_ids", None)
    if ids is None:
        ids = {p.pk for p in notice.purposes.all()}
        notice.purpose_ids = ids
    return purpose.pk in ids


def ensure_notice(notice: NoticeVersion | None, purpose: Purpose, organisation_id: int) -> None:
    """Invariant 4 (what the person was told is frozen): only a published notice of the same
    organisation that covers the purpose can be the one shown."""
    if notice is None:
        return
    if notice.organisation_id != organisation_id or not notice.is_published:
        raise ValidationError(
            _("Only a published notice can be shown to a person."), code="notice_draft"
        )
    if not notice_covers(notice, purpose):
        raise ValidationError(
            _("Notice “%(notice)s” does not cover the purpose “%(purpose)s”.")
            % {"notice": notice, "purpose": purpose},
            code="notice_purpose",
        )


def ensure_grantable(purpose: Purpose, notice: NoticeVersion | None) -> None:
    """GDPR Art. 13 and 4(11): a person consents only to an active purpose, and only once they
    were informed (a published notice was shown)."""
    if not purpose.active:
        raise ValidationError(
            _("The purpose “%(purpose)s” is no longer active.") % {"purpose": purpose},
            code="inactive",
        )
    if purpose.requires_consent and notice is None:
        raise ValidationError(
            _(
                "No published notice covers “%(purpose)s”: a person cannot consent without"
                " being informed (GDPR Art. 13)."
            )
            % {"purpose": purpose},
            code="no_notice",
        )


def ensure_withdrawable(purpose: Purpose, *, current_action: str | None) -> None:
    """GDPR Art. 7(3): a withdrawal takes back a consent that was given."""
    if current_action != Action.GRANTED:
        raise ValidationError(
            _("Nothing to withdraw: there is no consent to withdraw for “%(purpose)s”.")
            % {"purpose": purpose},
            code="nothing_to_withdraw",
        )


def ensure_attributable(current_action: str | None, *, personal: bool) -> None:
    """GDPR Art. 7(1): the controller must be able to show that *this person* consented. Anyone
    can type anyone's number on a poster or a group invite, so a submission through a link that
    is not personal to the person never turns their recorded refusal or withdrawal into a grant:
    it waits, unconfirmed, until they confirm through their own personal link."""
    if not personal and current_action in (Action.REFUSED, Action.WITHDRAWN):
        raise ValidationError(
            _(
                "An earlier answer of this person is on record: a change must be confirmed"
                " through their personal link."
            ),
            code="unconfirmed",
        )


def check_decision(decision, organisation_id: int) -> None:
    """Every rule of one purpose's answer that needs nothing but the answer itself."""
    ensure_own_purpose(decision.purpose, organisation_id)
    ensure_action(decision.action)
    ensure_notice(decision.notice, decision.purpose, organisation_id)
    if decision.action == Action.GRANTED:
        ensure_grantable(decision.purpose, decision.notice)


def check_act(act, organisation_id: int, *, now: datetime) -> None:
    """Every rule of an act that needs nothing but the act (and its person) itself."""
    ensure_answered(act.decisions)
    ensure_own_subject(act.subject, organisation_id)
    ensure_recordable(act.subject)
    if any(decision.action == Action.GRANTED for decision in act.decisions):
        ensure_not_restricted(act.subject)
    ensure_channel(act.channel)
    ensure_given_by(act.given_by)
    ensure_each_purpose_once(act.decisions)
    ensure_not_in_future(act.captured_at, now=now)
    for decision in act.decisions:
        if decision.action == Action.GRANTED:
            ensure_fits(decision.purpose, act.subject.kind)


# --- which notice a person is shown ---------------------------------------------------------


def choose_notice(published: Iterable[NoticeVersion], *, language: str, fallback_language: str):
    """GDPR Art. 13 and 12(1) (in a language the person understands): which notice a person is
    shown for a purpose. The current one in the person's language; else in the organisation's
    language (``fallback_language``); else the latest published in any language. A person is
    never asked without a notice when one exists.

    ``published``: the organisation's published notices covering the purpose, in any order.
    NoticeVersion.objects.to_show() applies this rule to the database.
    """
    latest: dict[str, NoticeVersion] = {}
    for notice in published:
        best = latest.get(notice.language)
        if best is None or (notice.published_at, notice.pk) > (best.published_at, best.pk):
            latest[notice.language] = notice
    for code in (language, fallback_language):
        if code in latest:
            return latest[code]
    return max(latest.values(), key=lambda n: (n.published_at, n.pk), default=None)
