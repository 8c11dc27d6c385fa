"""Writes on the record of processing: every change kept, bad input changing nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import AuditEntry
from consents.models import DataSubject, PurposeCategory
from processing import library, services
from processing.choices import Status
from processing.models import ActivityPurpose, ProcessingActivity, Recipient
from tests.accounts.factories import UserFactory
from tests.consents.factories import PurposeFactory
from tests.processing.factories import activity, processor_record

pytestmark = pytest.mark.django_db


def test_an_activity_is_created_with_its_lists_and_the_changes_are_audited(org, dpo):
    purpose = PurposeFactory(organisation=org, legal_basis="consent")

    made = activity(
        org,
        user=dpo,
        purposes=[{"purpose": purpose, "legal_basis": "legitimate_interests", "notes": "LSSI"}],
    )

    (line,) = made.purpose_lines.all()
    assert line.purpose == purpose and line.legal_basis == "legitimate_interests"
    assert list(made.purposes.all()) == [purpose]
    assert made.recipients.count() == 1 and made.transfers.count() == 1
    registers = {"processingactivity", "activitypurpose", "recipient", "transfer"}
    entries = AuditEntry.objects.filter(
        organisation=org, action=AuditEntry.Action.CREATED, register__in=registers
    )
    assert {e.register for e in entries} == registers
    assert all(e.user == dpo for e in entries)


def test_an_update_saves_only_what_changed_and_a_removed_row_stays_in_history(org, dpo):
    made = activity(org, user=dpo)
    recipient = made.recipients.get()
    before = ProcessingActivity.history.filter(id=made.pk).count()

    services.activity_update(
        activity=made,
        data={"name": made.name, "retention": "6 meses"},
        recipients=[],
        user=dpo,
    )

    assert ProcessingActivity.history.filter(id=made.pk).count() == before + 1
    assert not Recipient.objects.filter(pk=recipient.pk).exists()
    assert (
        Recipient.history.filter(id=recipient.pk).values_list("history_type", flat=True)[0] == "-"
    )
    change = AuditEntry.objects.filter(register="processingactivity", action="changed").get()
    assert change.user == dpo
    assert change.changes == [
        {"field": "retention", "old": "12 meses después de la cita", "new": "6 meses"}
    ]
    services.activity_update(activity=made, data={"retention": "6 meses"}, user=dpo)
    assert ProcessingActivity.history.filter(id=made.pk).count() == before + 1


def test_a_purpose_of_another_organisation_is_refused_and_nothing_is_saved(org, other_org, dpo):
    foreign = PurposeFactory(organisation=other_org)

    with pytest.raises(ValidationError, match="choose one of the organisation's purposes"):
        activity(org, user=dpo, purposes=[{"purpose": foreign, "legal_basis": "consent"}])

    assert not ProcessingActivity.objects.exists()


def test_a_purpose_listed_twice_is_refused(org, dpo):
    purpose = PurposeFactory(organisation=org, name="Citas")
    twice = [{"purpose": purpose, "legal_basis": "consent"}] * 2

    with pytest.raises(ValidationError, match="“Citas” is listed twice"):
        activity(org, user=dpo, purposes=twice)


def test_a_purpose_row_without_legal_basis_says_which_row(org, dpo):
    purpose = PurposeFactory(organisation=org)

    with pytest.raises(ValidationError, match="Purposes, row 1: legal basis"):
        activity(org, user=dpo, purposes=[{"purpose": purpose, "legal_basis": ""}])
    assert not ProcessingActivity.objects.exists()


def test_unknown_categories_are_refused(org, dpo):
    with pytest.raises(ValidationError, match="Unknown entries"):
        activity(org, user=dpo, data_categories=["health", "shoe_size"])


def test_the_owner_must_be_a_member(org, dpo):
    with pytest.raises(ValidationError, match="owner must be a member"):
        activity(org, user=dpo, owner=UserFactory())


def test_a_reference_is_unique_within_the_organisation(org, dpo):
    activity(org, user=dpo, reference="T-01")

    with pytest.raises(ValidationError):
        activity(org, user=dpo, reference="T-01")
    assert ProcessingActivity.objects.count() == 1


def test_retiring_keeps_the_activity_and_freezes_it(org, dpo):
    made = activity(org, user=dpo)

    services.activity_retire(activity=made, user=dpo)

    made.refresh_from_db()
    assert made.status == Status.RETIRED and made.retired_at is not None
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.activity_update(activity=made, data={"name": "x"}, user=dpo)
    with pytest.raises(ValidationError, match="retired already"):
        services.activity_retire(activity=made, user=dpo)
    with pytest.raises(ValidationError, match="Retire"):
        services.activity_update(
            activity=activity(org, user=dpo), data={"status": "retired"}, user=dpo
        )


def test_a_template_links_the_purposes_of_its_category_and_audience(org, dpo):
    appointments = PurposeFactory(organisation=org, category=PurposeCategory.APPOINTMENTS)
    PurposeFactory(organisation=org, category=PurposeCategory.MARKETING)
    customers = PurposeFactory(organisation=org, category=PurposeCategory.GROUP_MEMBERSHIP)
    team = PurposeFactory(
        organisation=org,
        category=PurposeCategory.GROUP_MEMBERSHIP,
        audience=DataSubject.Kind.EMPLOYEE,
        legal_basis="legitimate_interests",
    )

    reminders = services.activity_from_template(
        organisation=org, code="appointment-reminders", user=dpo
    )
    groups = services.activity_from_template(organisation=org, code="customer-groups", user=dpo)
    staff = services.activity_from_template(organisation=org, code="employee-groups", user=dpo)

    assert list(reminders.purposes.all()) == [appointments]
    assert list(groups.purposes.all()) == [customers]
    assert list(staff.purposes.all()) == [team]
    assert staff.purpose_lines.get().legal_basis == "legitimate_interests"
    assert reminders.status == Status.DRAFT and reminders.owner == dpo
    assert reminders.template == "appointment-reminders"
    assert reminders.retention and reminders.security_measures and reminders.systems
    assert reminders.transfers.get().safeguard == "eu_us_dpf"
    assert reminders.recipients.filter(third_country=True).exists()


def test_a_template_is_written_in_the_organisation_language(org, dpo):
    org.default_language = "es"
    org.save()
    template = library.get("marketing")
    with translation.override("es"):
        expected = str(template.name)

    made = services.activity_from_template(organisation=org, code="marketing", user=dpo)

    assert made.name == expected


def test_a_template_with_special_categories_sets_the_art9_condition(org, dpo):
    PurposeFactory(organisation=org, category=PurposeCategory.DOCUMENTS)

    made = services.activity_from_template(organisation=org, code="sending-documents", user=dpo)

    assert made.has_special_categories
    assert made.purpose_lines.get().art9_condition == "a"


def test_every_template_makes_an_activity(org, dpo):
    for template in library.TEMPLATES:
        services.activity_from_template(organisation=org, code=template.code, user=dpo)

    assert ProcessingActivity.objects.filter(organisation=org).count() == len(library.TEMPLATES)
    assert len(library.TEMPLATES) == 6


def test_an_unknown_template_is_refused(org, dpo):
    with pytest.raises(ValidationError, match="no such template"):
        services.activity_from_template(organisation=org, code="nope", user=dpo)


def test_purpose_lines_update_by_id(org, dpo):
    first, second = PurposeFactory(organisation=org), PurposeFactory(organisation=org)
    made = activity(org, user=dpo, purposes=[{"purpose": first, "legal_basis": "consent"}])
    line = made.purpose_lines.get()

    services.activity_update(
        activity=made,
        data={},
        purposes=[
            {"id": line.pk, "purpose": first, "legal_basis": "contract"},
            {"purpose": second, "legal_basis": "consent"},
        ],
        user=dpo,
    )

    assert ActivityPurpose.objects.get(pk=line.pk).legal_basis == "contract"
    assert set(made.purposes.all()) == {first, second}
    with pytest.raises(ValidationError, match="no longer on record"):
        services.activity_update(
            activity=made,
            data={},
            purposes=[{"id": 999999, "purpose": first, "legal_basis": "consent"}],
            user=dpo,
        )


def test_a_processor_record_keeps_its_controllers_and_retires(org, dpo):
    record = processor_record(org, user=dpo)

    assert record.controllers.get().name == "Clínica Dental Norte S.L."
    services.processor_record_retire(record=record, user=dpo)
    record.refresh_from_db()
    assert record.is_retired
    with pytest.raises(ValidationError):
        services.processor_record_update(record=record, data={"name": "x"}, user=dpo)
