"""What the browser journeys share: the clinic each one starts from, and the way in."""

from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory

PASSWORD = "correct-horse-battery"  # every UserFactory user's (tests/accounts/factories.py)
DPO_EMAIL = "dpo@clinic.example"


def clinic_with_dpo(**dpo_fields):
    """The clinic and its DPO (``DPO_EMAIL``, ``PASSWORD``): (organisation, user)."""
    org = OrganisationFactory(slug="clinic", legal_name="Clínica Dental Norte S.L.")
    dpo = UserFactory(email=DPO_EMAIL, **dpo_fields)
    MembershipFactory(organisation=org, role=Role.DPO, user=dpo)
    return org, dpo


def log_in(page, live_server, email=DPO_EMAIL):
    """Log in on the login page; a member of the clinic lands on its dashboard."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/o/clinic/")
