"""The REST API (version 1). Views stay thin, as pages do: parse with a serializer, call the same
service or selector the page calls, answer JSON. Every read goes through the key's organisation
(invariant 1): another organisation's row is a 404, never its data."""

import hashlib

from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AuditEntry
from accounts.request_info import client_ip, user_agent
from accounts.services import audit_record
from consents import selectors
from consents.acts import ConsentAct, Decision, PersonDetails, ProofInput
from consents.models import (
    ConsentEvent,
    ConsentState,
    DataSubject,
    NoticeVersion,
    Purpose,
    of_visible_subjects,
)
from consents.phones import parse_phone
from consents.services import consent_capture
from evidence import runners as evidence_runners
from evidence.packs import PackScope
from groups.models import GroupMembership, WhatsAppGroup
from jobs.models import Job
from jobs.tasks import job_enqueue
from processing import runners as processing_runners
from rights_requests.models import RightsRequest
from rights_requests.services import request_log

from . import serializers as s

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any text up to 200 characters, unique per act: sending the same act again with the"
        " same key records nothing new and answers the first result."
    ),
)


class OrganisationView:
    """The key's organisation, and the page permission (accounts.roles) each method needs."""

    permission: str | dict = ""
    # Query parameters a GET understands (a list also takes page and page_size). Any other is a
    # 400: a misspelt filter must not silently answer for everyone.
    query_names: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not hasattr(self, request.method.lower()):
            return  # a method the view has not: 405 follows
        known = set(self.query_names) if request.method == "GET" else set()
        if request.method == "GET" and hasattr(self, "list"):
            known |= {"page", "page_size"}
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            said = ", ".join(sorted(known)) or _("none")
            raise serializers.ValidationError(
                {
                    name[:50]: [_("Unknown parameter (known: %(known)s).") % {"known": said}]
                    for name in unknown[:10]
                }
            )
        # A NUL character is no part of any phone, code or name, and PostgreSQL refuses it in
        # text: say so here rather than let the query fail.
        params = request.query_params
        with_nul = sorted(name for name in params if "\x00" in "".join(params.getlist(name)))
        if with_nul:
            raise serializers.ValidationError(
                {name[:50]: [_("Null characters are not allowed.")] for name in with_nul[:10]}
            )

    @property
    def organisation(self):
        return self.request.organisation

    def get_serializer_context(self):
        return {"request": self.request, "organisation": self.organisation, "view": self}

    @property
    def key(self):
        return self.request.auth


# One serializer for every answer: a ModelSerializer builds its fields once per instance, which
# was a tenth of a consent check when it was made anew for each.
_EVENT_REF = s.EventRefSerializer()


def _check_answer(phone_text, purpose, check, checked_at) -> dict:
    return {
        "phone": phone_text,
        "e164": check.e164 if check else None,
        "purpose": purpose.code,
        "allowed": check.allowed if check else False,
        "reason": check.reason if check else "invalid_phone",
        "message": check.message if check else "",
        "event": _EVENT_REF.to_representation(check.event) if check and check.event else None,
        "checked_at": checked_at,
    }


class ConsentCheckView(OrganisationView, APIView):
    """May I message this number for this purpose, now?"""

    permission = "view_subjects"
    parser_classes = [JSONParser]
    query_names = ("phone", "purpose")

    @extend_schema(
        operation_id="consent_check",
        parameters=[s.ConsentCheckQuery],
        responses={200: s.ConsentCheckAnswer},
        summary="May I message this number for this purpose?",
    )
    def get(self, request):
        query = s.ConsentCheckQuery(
            data=request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        purpose, text = query.validated_data["purpose"], query.validated_data["phone"]
        try:
            phone = parse_phone(text, self.organisation.country)
        except Exception as error:  # django ValidationError: the number cannot be read
            raise serializers.ValidationError({"phone": error.messages}) from None
        check = selectors.consent_checks(self.organisation, [phone.as_e164], purpose)[0]
        return Response(_check_answer(text, purpose, check, timezone.now()))

    @extend_schema(
        operation_id="consent_check_batch",
        request=s.ConsentCheckBatch,
        responses={200: s.ConsentCheckBatchAnswer},
        summary="The consent check for up to 1,000 numbers (a campaign list)",
    )
    def post(self, request):
        batch = s.ConsentCheckBatch(data=request.data, context=self.get_serializer_context())
        batch.is_valid(raise_exception=True)
        purpose = batch.validated_data["purpose"]
        country = self.organisation.country
        parsed = []
        for text in batch.validated_data["phones"]:
            try:
                parsed.append((text, parse_phone(text, country).as_e164))
            except Exception as error:  # django ValidationError
                parsed.append((text, error))
        readable = [e164 for _text, e164 in parsed if isinstance(e164, str)]
        checks = dict(
            zip(
                readable,
                selectors.consent_checks(self.organisation, readable, purpose),
                strict=True,
            )
        )
        now = timezone.now()
        results = []
        for text, e164 in parsed:
            if isinstance(e164, str):
                results.append(_check_answer(text, purpose, checks[e164], now))
            else:
                answer = _check_answer(text, purpose, None, now)
                answer["message"] = " ".join(e164.messages)
                results.append(answer)
        return Response(
            {
                "purpose": purpose.code,
                "checked_at": now,
                "allowed": sum(1 for r in results if r["allowed"]),
                "results": results,
            }
        )


@extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Name or phone")])
class SubjectList(OrganisationView, generics.ListAPIView):
    """People in normal use (blocked and purged people are kept only for authorities)."""

    permission = "view_subjects"
    serializer_class = s.SubjectSerializer
    query_names = ("q",)

    def get_queryset(self):
        query = self.request.query_params.get("q", "")
        return selectors.subject_search(self.organisation, query).order_by("pk")


class SubjectDetail(OrganisationView, generics.RetrieveAPIView):
    permission = "view_subjects"
    serializer_class = s.SubjectDetailSerializer

    def get_queryset(self):
        return (
            DataSubject.objects.filter(organisation=self.organisation)
            .visible()
            .prefetch_related("states__purpose", "states__event")
        )


def _int_param(request, name):
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise serializers.ValidationError({name: [_("A whole number is required.")]}) from None
    if not 0 <= number < 2**63:
        raise serializers.ValidationError({name: [_("Out of range.")]})
    return number


def _purpose_param(view):
    code = view.request.query_params.get("purpose")
    if not code:
        return None
    purpose = Purpose.objects.filter(organisation=view.organisation, code=code).first()
    if purpose is None:
        raise serializers.ValidationError(
            {"purpose": [_("No purpose has the code “%s”.") % code[:50]]}
        )
    return purpose


LEDGER_FILTERS = [
    OpenApiParameter("subject", OpenApiTypes.INT, description="A person's id"),
    OpenApiParameter("purpose", OpenApiTypes.STR, description="A purpose's code"),
]


class EventList(OrganisationView, generics.ListCreateAPIView):
    """The ledger, oldest first; ``after`` gives the events after a sequence (to follow it)."""

    permission = {"GET": "view_subjects", "POST": "capture_consent"}
    serializer_class = s.EventSerializer
    query_names = ("subject", "purpose", "after")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        events = (
            ConsentEvent.objects.filter(organisation=self.organisation)
            .filter(of_visible_subjects())
            .select_related("purpose", "notice_version")
            .order_by("sequence")
        )
        subject = _int_param(self.request, "subject")
        if subject is not None:
            events = events.filter(subject_id=subject)
        purpose = _purpose_param(self)
        if purpose is not None:
            events = events.filter(purpose=purpose)
        after = _int_param(self.request, "after")
        if after is not None:
            events = events.filter(sequence__gt=after)
        return events

    @extend_schema(
        parameters=[
            *LEDGER_FILTERS,
            OpenApiParameter("after", OpenApiTypes.INT, description="Only events after this"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="consent_record",
        request={"application/json": s.ConsentRecord, "multipart/form-data": s.ConsentRecord},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.RecordAnswer, 200: s.RecordAnswer},
        summary="Record a person's consent, refusal or withdrawal, with its proof",
    )
    def post(self, request, *args, **kwargs):
        form = s.ConsentRecord(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        language = data.get("language") or self.organisation.default_language
        person = PersonDetails(
            phone=data["phone"],
            full_name=data["full_name"],
            kind=data["kind"],
            email=data["email"],
            preferred_language=language,
            is_minor=data["is_minor"],
            guardian_name=data["guardian_name"],
        )
        act = ConsentAct(
            decisions=[
                Decision(
                    purpose=p,
                    action=data["action"],
                    notice=NoticeVersion.objects.to_show(p, language),
                )
                for p in data["purposes"]
            ],
            channel=data["channel"],
            captured_at=data.get("captured_at"),
            recorded_by=self.key.created_by,
            ip_address=client_ip(request),
            user_agent=f"API key {self.key.prefix}… ({self.key.name}) · {user_agent(request)}",
            idempotency_key=self._idempotency_key(),
        )
        result = consent_capture(
            organisation=self.organisation,
            person=person,
            act=act,
            proof=ProofInput(quote=data["quote"], note=data["note"], files=data["files"]),
        )
        if result.replayed:
            _ensure_same_act(result, data)
        answer = {
            "subject": result.subject.pk,
            "subject_created": result.subject_created,
            "replayed": result.replayed,
            "events": s.EventSerializer(result.events, many=True).data,
        }
        return Response(answer, status=status.HTTP_200_OK if result.replayed else 201)

    def _idempotency_key(self) -> str:
        """The ledger keeps 64 characters per act: the key's own namespace and a digest of the
        header, so two integrations never replay each other's acts."""
        given = self.request.headers.get(IDEMPOTENCY_HEADER, "")
        if not given:
            return ""
        if len(given) > 200 or not given.isprintable() or not given.isascii():
            raise serializers.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Use up to 200 printable ASCII characters.")]}
            )
        digest = hashlib.sha256(f"{self.key.pk}:{given}".encode()).hexdigest()
        return f"api:{digest[:60]}"


def _ensure_same_act(result, data) -> None:
    """An Idempotency-Key names one request: sent again with another number, other purposes or
    another answer, it is a mistake in the caller, not a retry. Say so (nothing was recorded)
    instead of answering with the first act as if it were this one."""
    recorded = {
        "phone": result.subject.phone.as_e164 if result.subject.phone else None,
        "purposes": {event.purpose_id for event in result.events},
        "actions": {event.action for event in result.events},
    }
    sent = {
        "phone": data["phone"].as_e164,
        "purposes": {purpose.pk for purpose in data["purposes"]},
        "actions": {data["action"]},
    }
    if recorded != sent:
        raise serializers.ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    _(
                        "This Idempotency-Key was already used for another act (another number,"
                        " purposes or answer): nothing was recorded. Use a new key for a new act."
                    )
                ]
            }
        )


class EventDetail(OrganisationView, generics.RetrieveAPIView):
    permission = "view_subjects"
    serializer_class = s.EventSerializer
    lookup_field = "sequence"

    def get_queryset(self):
        return (
            ConsentEvent.objects.filter(organisation=self.organisation)
            .filter(of_visible_subjects())
            .select_related("purpose", "notice_version")
        )


@extend_schema(parameters=LEDGER_FILTERS)
class StateList(OrganisationView, generics.ListAPIView):
    """Each person's current answer per purpose (ConsentState)."""

    permission = "view_subjects"
    serializer_class = s.StateSerializer
    query_names = ("subject", "purpose")

    def get_queryset(self):
        states = (
            ConsentState.objects.filter(organisation=self.organisation)
            .filter(of_visible_subjects())
            .select_related("purpose", "event")
            .order_by("subject_id", "purpose__code")
        )
        subject = _int_param(self.request, "subject")
        if subject is not None:
            states = states.filter(subject_id=subject)
        purpose = _purpose_param(self)
        if purpose is not None:
            states = states.filter(purpose=purpose)
        return states


class PurposeList(OrganisationView, generics.ListAPIView):
    permission = "view"
    serializer_class = s.PurposeSerializer

    def get_queryset(self):
        return Purpose.objects.filter(organisation=self.organisation).order_by("code")


class PurposeDetail(OrganisationView, generics.RetrieveAPIView):
    permission = "view"
    serializer_class = s.PurposeSerializer
    lookup_field = "code"

    def get_queryset(self):
        return Purpose.objects.filter(organisation=self.organisation)


class Notices(OrganisationView):
    """Published notice versions (what people were and are told); drafts stay with the DPO."""

    permission = "view"
    serializer_class = s.NoticeSerializer

    def get_queryset(self):
        return (
            NoticeVersion.objects.filter(organisation=self.organisation)
            .published()
            .prefetch_related("purposes")
            .order_by("-published_at", "-pk")
        )


class NoticeList(Notices, generics.ListAPIView):
    pass


class NoticeDetail(Notices, generics.RetrieveAPIView):
    pass


class Groups(OrganisationView):
    permission = "view"
    serializer_class = s.GroupSerializer

    def get_queryset(self):
        return (
            WhatsAppGroup.objects.filter(organisation=self.organisation)
            .select_related("purpose")
            .order_by("name", "pk")
        )


class GroupList(Groups, generics.ListAPIView):
    pass


class GroupDetail(Groups, generics.RetrieveAPIView):
    pass


@extend_schema(
    parameters=[OpenApiParameter("current", OpenApiTypes.BOOL, description="Only people in it now")]
)
class GroupMembers(OrganisationView, generics.ListAPIView):
    """A group's roster: who is or was in it, how they joined, under which consent event."""

    permission = "view"
    serializer_class = s.GroupMemberSerializer
    query_names = ("current",)

    def get_queryset(self):
        group = get_object_or_404(
            WhatsAppGroup, organisation=self.organisation, pk=self.kwargs["pk"]
        )
        members = (
            GroupMembership.objects.filter(group=group)
            .filter(of_visible_subjects())
            .select_related("subject", "consent_event")
            .order_by("joined_at", "pk")
        )
        if self.request.query_params.get("current") in ("1", "true", "yes"):
            members = members.current()
        return members


class RequestList(OrganisationView, generics.ListCreateAPIView):
    """Rights requests (GDPR Art. 15-21): log one that reached another system; follow its status
    and due date."""

    permission = {"GET": "view_requests", "POST": "log_request"}
    serializer_class = s.RightsRequestSerializer

    def get_queryset(self):
        return RightsRequest.objects.filter(organisation=self.organisation).order_by("-pk")

    @extend_schema(request=s.RightsRequestCreate, responses={201: s.RightsRequestSerializer})
    def post(self, request, *args, **kwargs):
        form = s.RightsRequestCreate(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        logged = request_log(
            organisation=self.organisation,
            right=data["right"],
            channel=data["channel"],
            received_on=data["received_on"],
            user=self.key.created_by,
            phone=data["phone"],
            name=data["name"],
            email=data["email"],
            details=data["details"],
            language=data["language"],
            request=request._request,
        )
        return Response(s.RightsRequestSerializer(logged).data, status=201)


class RequestDetail(OrganisationView, generics.RetrieveAPIView):
    permission = "view_requests"
    serializer_class = s.RightsRequestSerializer

    def get_queryset(self):
        return RightsRequest.objects.filter(organisation=self.organisation)


class JobList(OrganisationView, generics.ListCreateAPIView):
    """Evidence exports, run in the background: start one, poll it, download its file."""

    permission = "export"
    serializer_class = s.JobSerializer

    def get_queryset(self):
        return Job.objects.filter(organisation=self.organisation)

    @extend_schema(request=s.JobStart, responses={202: s.JobSerializer})
    def post(self, request, *args, **kwargs):
        form = s.JobStart(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        kind, parameters, description = getattr(self, f"_{data['kind']}")(data)
        with transaction.atomic():
            job = job_enqueue(
                organisation=self.organisation,
                kind=kind,
                parameters=parameters,
                requested_by=self.key.created_by,
                description=description,
            )
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    def _language(self, data):
        return data.get("language") or self.organisation.default_language

    def _certificate(self, data):
        subject = (
            DataSubject.objects.filter(organisation=self.organisation, pk=data["subject"])
            .visible()
            .first()
        )
        if subject is None:
            raise serializers.ValidationError({"subject": [_("Nobody on record has this id.")]})
        purpose = data.get("purpose")
        parameters = {
            "subject_id": subject.pk,
            "purpose_id": purpose.pk if purpose else None,
            "language": self._language(data),
        }
        return evidence_runners.CERTIFICATE, parameters, subject.full_name

    def _pack(self, data):
        wanted = sorted(set(data["subjects"]))
        found = list(
            DataSubject.objects.filter(organisation=self.organisation, pk__in=wanted)
            .visible()
            .values_list("pk", flat=True)
        )
        if len(found) != len(wanted):
            raise serializers.ValidationError(
                {
                    "subjects": [
                        _("Not on record: %s")
                        % ", ".join(map(str, sorted(set(wanted) - set(found)))[:20])
                    ]
                }
            )
        scope = PackScope(
            purposes=[p.code for p in data["purposes"]],
            date_from=data["date_from"],
            date_to=data["date_to"],
            subject_ids=found,
            requests=data["requests"],
            ropa=data["ropa"],
        )
        return evidence_runners.PACK, scope.to_parameters(), scope.describe()

    def _ropa(self, data):
        parameters = processing_runners.parameters(
            file_format=data["format"], as_of=data["as_of"], language=self._language(data)
        )
        return (
            processing_runners.ROPA,
            parameters,
            processing_runners.describe_parameters(parameters),
        )


class JobDetail(OrganisationView, generics.RetrieveAPIView):
    permission = "export"
    serializer_class = s.JobSerializer

    def get_queryset(self):
        return Job.objects.filter(organisation=self.organisation)


class JobDownload(OrganisationView, APIView):
    permission = "export"

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="The job's file (a signed PDF, a ZIP pack, a spreadsheet)",
    )
    def get(self, request, pk):
        job = get_object_or_404(Job, organisation=self.organisation, pk=pk)
        if (
            job.status != Job.Status.DONE
            or not job.result
            or not job.has_file
            or job.result_expired
        ):
            raise Http404(_("No file for this job."))
        audit_record(
            job,
            AuditEntry.Action.DOWNLOADED,
            user=self.key.created_by,
            request=request._request,
            object_repr=(
                f"{job.result_name} ({job.result_sha256[:12]}…) · API key {self.key.prefix}…"
            ),
        )
        return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result_name)
