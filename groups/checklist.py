"""The DPO's checklist: the eight questions of DOMAIN.md answered from the data.

Each answer is "yes", "partly" or "no", with one short figure and a link to what is missing.
Definitions (so an auditor can recompute them):
1. Marketing recipients without consent: active customers who appear on the marketing list (they
   have an answer recorded for a marketing purpose) but hold no granted marketing consent now
   (they refused or withdrew). They must be left out of every campaign (LSSI Art. 21).
2. Members of active groups whose consent to the group's purpose is not granted now.
3. A "sending documents" purpose exists, is active and has a published notice.
4. Every active purpose that needs consent has a current notice, and every current notice
   informs of international transfers: the DPO records it on the notice
   (``NoticeVersion.informs_international_transfers``, frozen with it), in any language.
5. Active staff WhatsApp accounts are registered, each assigned to a member, and a usage policy
   is published.
6. Active staff accounts on personal numbers.
7. Members who have not acknowledged the current usage policy version.
8. A usage policy version is published.
Then the questions other apps add through settings.CHECKLIST_QUESTIONS, numbered on from 9 (the
rights requests: rights_requests.checklist; the record of processing: processing.checklist).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consents.models import Action, ConsentState, DataSubject, NoticeVersion, Purpose
from consents.models import PurposeCategory as Category

from . import selectors
from .models import StaffAccount, WhatsAppGroup

YES, PARTLY, NO = "yes", "partly", "no"


@dataclass
class Answer:
    number: int
    question: str
    status: str
    figure: str
    link: str = ""


def _current_notices(organisation):
    """The current notice per (purpose, language) of active purposes."""
    current = {}
    notices = (
        NoticeVersion.objects.filter(organisation=organisation)
        .published()
        .prefetch_related("purposes")
        .order_by("published_at", "pk")
    )
    for notice in notices:
        for purpose in notice.purposes.all():
            if purpose.active:
                current[(purpose.pk, notice.language)] = notice
    return current


def marketing_without_consent(organisation) -> int:
    marketing = ConsentState.objects.filter(
        organisation=organisation, purpose__category=Category.MARKETING
    )
    on_list = marketing.values("subject")
    granted = marketing.filter(action=Action.GRANTED).values("subject")
    return (
        DataSubject.objects.filter(organisation=organisation, kind=DataSubject.Kind.CUSTOMER)
        .active()
        .filter(pk__in=on_list)
        .exclude(pk__in=granted)
        .count()
    )


def answers(organisation) -> list[Answer]:
    slug = organisation.slug
    result = []

    # 1. Advertising only with prior express consent.
    missing = marketing_without_consent(organisation)
    has_marketing = Purpose.objects.filter(
        organisation=organisation, category=Category.MARKETING, active=True
    ).exists()
    result.append(
        Answer(
            1,
            _("Do we hold explicit consent of each advertising recipient?"),
            NO if not has_marketing else (PARTLY if missing else YES),
            ngettext(
                "%(n)s marketing recipient without consent",
                "%(n)s marketing recipients without consent",
                missing,
            )
            % {"n": missing}
            if has_marketing
            else _("No marketing purpose defined"),
            reverse("consents:register", args=[slug]) + "?action=withdrawn"
            if has_marketing
            else reverse("consents:purposes", args=[slug]),
        )
    )

    # 2. Consent before adding someone to a group.
    worst, total = None, 0
    for group in WhatsAppGroup.objects.filter(organisation=organisation).active():
        n = selectors.current_members_without_consent(group).count()
        total += n
        if n and (worst is None or n > worst[1]):
            worst = (group, n)
    groups_exist = WhatsAppGroup.objects.filter(organisation=organisation).active().exists()
    if worst:
        figure = ngettext(
            "Group “%(group)s” has %(n)s member without consent",
            "Group “%(group)s” has %(n)s members without consent",
            worst[1],
        ) % {"group": worst[0].name, "n": worst[1]}
        link = reverse("groups:group", args=[slug, worst[0].pk])
    else:
        figure = (
            _("Every group member consented") if groups_exist else _("No WhatsApp groups recorded")
        )
        link = reverse("groups:groups", args=[slug])
    result.append(
        Answer(
            2,
            _("Do we ask consent before adding someone to a group?"),
            PARTLY if total else YES,
            figure,
            link,
        )
    )

    # 3. Consent before sending personal information (documents) over WhatsApp.
    current = _current_notices(organisation)
    documents = Purpose.objects.filter(
        organisation=organisation, category=Category.DOCUMENTS, active=True
    )
    with_notice = [p for p in documents if any(k[0] == p.pk for k in current)]
    if with_notice:
        granted = ConsentState.objects.filter(
            purpose__in=with_notice, action=Action.GRANTED
        ).count()
        status, figure = (
            YES,
            ngettext(
                "%(n)s person agreed to receive documents",
                "%(n)s people agreed to receive documents",
                granted,
            )
            % {"n": granted},
        )
    elif documents:
        status, figure = PARTLY, _("The documents purpose has no published notice")
    else:
        status, figure = NO, _("No purpose for sending documents")
    result.append(
        Answer(
            3,
            _("Do we ask consent before sending personal information over WhatsApp?"),
            status,
            figure,
            reverse("consents:purposes", args=[slug]),
        )
    )

    # 4. Purposes told, and WhatsApp's international transfers.
    needing = Purpose.objects.filter(organisation=organisation, active=True, requires_consent=True)
    uninformed = [p for p in needing if not any(k[0] == p.pk for k in current)]
    notices = {n.pk: n for n in current.values()}
    silent = [n for n in notices.values() if not n.informs_international_transfers]
    status = NO if not notices else (PARTLY if (uninformed or silent) else YES)
    result.append(
        Answer(
            4,
            _("Were people told the purposes and that WhatsApp transfers data internationally?"),
            status,
            _("%(ok)s of %(n)s current notices mention international transfers")
            % {"ok": len(notices) - len(silent), "n": len(notices)}
            + (
                "; "
                + ngettext(
                    "%(n)s purpose without a notice",
                    "%(n)s purposes without a notice",
                    len(uninformed),
                )
                % {"n": len(uninformed)}
                if uninformed
                else ""
            ),
            reverse("consents:notices", args=[slug]),
        )
    )

    # 5-8. Staff: accounts, numbers, policy.
    # One query for the three figures questions 5 and 6 need.
    figures = StaffAccount.objects.filter(organisation=organisation, active=True).aggregate(
        total=Count("pk"),
        unassigned=Count("pk", filter=Q(employee__isnull=True)),
        personal=Count("pk", filter=Q(number_type=StaffAccount.NumberType.PERSONAL)),
    )
    total, unassigned, personal = figures["total"], figures["unassigned"], figures["personal"]
    policy = selectors.current_policy(organisation)
    if not total:
        status, figure = NO, _("No staff WhatsApp accounts registered")
    else:
        status = YES if (not unassigned and policy) else PARTLY
        figure = ngettext("%(n)s account registered", "%(n)s accounts registered", total) % {
            "n": total
        }
        if unassigned:
            figure += "; " + ngettext(
                "%(n)s not assigned to anyone", "%(n)s not assigned to anyone", unassigned
            ) % {"n": unassigned}
        if not policy:
            figure += "; " + _("no usage policy")
    result.append(
        Answer(
            5,
            _("Do we control professional use of WhatsApp by employees?"),
            status,
            figure,
            reverse("groups:staff_accounts", args=[slug]),
        )
    )

    result.append(
        Answer(
            6,
            _("Is each WhatsApp account used with customers a business number?"),
            NO if not total or personal == total else (PARTLY if personal else YES),
            ngettext(
                "%(n)s staff account is a personal number",
                "%(n)s staff accounts are personal numbers",
                personal,
            )
            % {"n": personal},
            reverse("groups:staff_accounts", args=[slug]),
        )
    )

    pending = selectors.members_without_acknowledgement(organisation, policy).count()
    result.append(
        Answer(
            7,
            _(
                "Were employees told not to share personal data in groups, and did they"
                " acknowledge it?"
            ),
            NO if not policy else (PARTLY if pending else YES),
            ngettext(
                "%(n)s member has not acknowledged the policy",
                "%(n)s members have not acknowledged the policy",
                pending,
            )
            % {"n": pending}
            if policy
            else _("No usage policy published"),
            reverse("groups:policies", args=[slug]),
        )
    )

    result.append(
        Answer(
            8,
            _("Is there a published data-processing policy that covers these apps?"),
            YES if policy else NO,
            _("Version %(v)s published") % {"v": policy.version}
            if policy
            else _("No usage policy published"),
            reverse("groups:policies", args=[slug]),
        )
    )
    # Other registers add their questions by name: this app need not import them.
    for path in getattr(settings, "CHECKLIST_QUESTIONS", []):
        extra = import_string(path)(organisation)
        result.append(Answer(len(result) + 1, **extra))
    return result
