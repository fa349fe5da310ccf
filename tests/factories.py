"""factory_boy factories for the domain. Pages are built by ``tests.pages`` helpers."""

import datetime

import factory
from django.utils import timezone
from djmoney.money import Money

from grants.models import Foundation, Fund, FundingCall, ProgramType, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Pat"
    last_name = "Example"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class FoundationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Foundation

    name = factory.Sequence(lambda n: f"Community Foundation {n}")
    slug = factory.Sequence(lambda n: f"foundation-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name}, Inc.")
    tax_id = "12-3456789"
    contact_email = "grants@example.org"


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund

    foundation = factory.SubFactory(FoundationFactory)
    name = factory.Sequence(lambda n: f"Defense Fund {n}")
    slug = factory.Sequence(lambda n: f"fund-{n}")
    program_type = ProgramType.DEPORTATION_DEFENSE
    currency = "USD"
    fundraising_goal = Money(100000, "USD")


class FundingCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingCall

    fund = factory.SubFactory(FundFactory)
    title = factory.Sequence(lambda n: f"Call {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=10))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    time_zone = "America/Los_Angeles"
    min_amount = factory.LazyAttribute(lambda o: Money(1000, o.fund.currency))
    max_amount = factory.LazyAttribute(lambda o: Money(20000, o.fund.currency))
