import factory
from django.contrib.auth import get_user_model

from approvals.models import Action, Workflow
from leads.models import Lead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1415555{n:04d}")


class ActionFactory(factory.django.DjangoModelFactory):
    """A pending first-response SMS draft for a lead (owned by ``lead__owner`` when given)."""

    class Meta:
        model = Action

    lead = factory.SubFactory(LeadFactory)
    workflow = Workflow.FIRST_RESPONSE
    kind = Action.Kind.SEND_SMS
    status = Action.Status.PENDING
    payload = factory.LazyAttribute(lambda a: {"to": a.lead.phone, "body": f"Hi {a.lead.first_name}, thanks!"})
    confidence = 0.8
    reasoning = "Test draft."
