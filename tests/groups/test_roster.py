import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consents.models import Action, DataSubject, NoticeVersion
from consents.phones import parse_phone
from groups import services
from groups.models import GroupMembership, RosterCheck
from tests.consents.factories import DataSubjectFactory, grant, withdraw
from tests.groups.factories import group_with_notice

pytestmark = pytest.mark.django_db

FORMATS = [
    "6{0:08d}",
    "+34 6{0:08d}",
    "0034 6{0:08d}",
    "(+34) 6{0:08d}",
    "\u202a+34\xa06{0:08d}\u202c",
]


def _typed(n: int) -> str:
    return FORMATS[n % len(FORMATS)].format(n)


def _subject(org, n, group=None, action=None, member=False):
    subject = DataSubjectFactory(organisation=org, phone=f"+346{n:08d}")
    if action:
        notice = NoticeVersion.objects.current_for(group.purpose, "es")
        grant(subject, group.purpose, notice)
        if action == Action.WITHDRAWN:
            withdraw(subject, group.purpose)
    if member:
        services.group_member_add(group=group, phone=subject.phone, added_by=None)
    return subject


@pytest.fixture
def group(org):
    return group_with_notice(org, name="Pacientes ortodoncia")


@pytest.fixture
def roster(org, group):
    """50 participants: 20 with consent, 5 withdrew, 10 known without consent, 15 unknown;
    4 recorded members are no longer in the group."""
    for n in range(0, 20):
        _subject(org, n, group, Action.GRANTED, member=n < 10)
    for n in range(20, 25):
        _subject(org, n, group, Action.WITHDRAWN, member=True)
    for n in range(25, 35):
        _subject(org, n)
    for n in range(90, 94):
        _subject(org, n, group, Action.GRANTED, member=True)
    lines = [_typed(n) for n in range(50)]
    return "\n".join(lines + ["Nombre", "600 ABC 123", _typed(3)])  # junk and a duplicate


def test_a_pasted_roster_of_50_numbers_in_mixed_formats_is_reconciled(org, group, roster, staff):
    check = services.roster_check_create(group=group, text=roster, checked_by=staff)
    counts = {key: len(value) for key, value in check.results.items()}
    assert check.pasted_count == 50
    assert counts == {
        "valid": 20,
        "withdrawn": 5,
        "no_consent": 10,
        "unknown": 15,
        "missing": 4,
        "unreadable": 2,
    }
    assert not check.recorded_as_roster
    assert GroupMembership.objects.filter(group=group).current().count() == 19


def test_recording_the_roster_adds_flagged_members_and_marks_missing_ones_left(
    org, group, roster, staff
):
    check = services.roster_check_create(group=group, text=roster, checked_by=staff)
    services.roster_check_record(check=check, recorded_by=staff)
    current = GroupMembership.objects.filter(group=group).current()
    assert current.count() == 50
    assert GroupMembership.objects.filter(group=group, left_at__isnull=False).count() == 4
    added = current.filter(joined_via=GroupMembership.JoinedVia.ADDED_BY_ADMIN, added_by=staff)
    assert added.count() == 35  # the 50 in the group minus the 15 recorded before
    assert DataSubject.objects.filter(organisation=org).count() == 39 + 15  # + the unknown
    # Those who had consented carry their consent event; the others are flagged.
    assert added.filter(consent_event__isnull=False).count() == 10
    with pytest.raises(Exception, match="already"):
        services.roster_check_record(check=check, recorded_by=staff)


def test_an_older_check_cannot_be_recorded_over_a_newer_one(org, group, roster, staff):
    old = services.roster_check_create(group=group, text=roster, checked_by=staff)
    services.roster_check_create(group=group, text=roster, checked_by=staff)
    with pytest.raises(Exception, match="newer"):
        services.roster_check_record(check=old, recorded_by=staff)


def test_the_roster_page_takes_an_uploaded_csv(client_for, org, group, staff):
    _subject(org, 1, group, Action.GRANTED)
    csv = b"nombre,telefono\nAna,+34 600 000 001\nLuis,611 22 33 44\n"
    client = client_for(staff)
    response = client.post(
        reverse("groups:roster_check", args=[org.slug, group.pk]),
        {"file": SimpleUploadedFile("participantes.csv", csv, "text/csv")},
    )
    check = RosterCheck.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert [len(check.results[k]) for k in ("valid", "unknown", "unreadable")] == [1, 1, 1]
    assert parse_phone("611223344", "ES").as_e164 in page.content.decode()


def test_a_binary_upload_is_refused(client_for, org, group, staff):
    response = client_for(staff).post(
        reverse("groups:roster_check", args=[org.slug, group.pk]),
        {"file": SimpleUploadedFile("x.csv", b"\x89PNG\x00\x00", "text/csv")},
    )
    assert response.status_code == 200
    assert "not a text or CSV file" in response.content.decode()
    assert not RosterCheck.objects.exists()


def test_recording_through_the_page(client_for, org, group, roster, staff):
    check = services.roster_check_create(group=group, text=roster, checked_by=staff)
    response = client_for(staff).post(
        reverse("groups:roster_record", args=[org.slug, group.pk, check.pk])
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.recorded_as_roster
