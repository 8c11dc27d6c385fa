import factory

from accounts.models import Invitation, Membership, Organisation, User
from accounts.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="es_ES")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    legal_name = factory.Sequence(lambda n: f"Clínica Ejemplo {n} S.L.")
    slug = factory.Sequence(lambda n: f"org-{n}")
    tax_id = factory.Sequence(lambda n: f"B{n:08d}")
    country = "ES"
    contact_email = factory.Sequence(lambda n: f"info{n}@clinic.example")
    dpo_name = "Delegada de Protección"
    dpo_email = factory.Sequence(lambda n: f"dpo{n}@clinic.example")
    default_language = "es"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.STAFF


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation of an existing account (not a member) to an organisation."""

    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda invitation: invitation.user.email)
    role = Role.STAFF
