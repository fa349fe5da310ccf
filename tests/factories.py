"""factory_boy factories for the domain. Pages are built by ``tests.pages`` helpers."""

import datetime

import factory
from django.utils import timezone
from djmoney.money import Money

from grants.models import (
    Application,
    ApplicationStatus,
    Foundation,
    Fund,
    FundingCall,
    LegalStatus,
    Organization,
    OrganizationInvite,
    OrganizationMembership,
    ProgramType,
    User,
)


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


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An unincorporated group; pass ``legal_status`` and tax ids for the other kinds."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Community Group {n}")
    mission = "Rapid response and know-your-rights workshops."
    region_served = "Alameda County"
    languages = "Spanish, English"
    legal_status = LegalStatus.UNINCORPORATED
    created_by = None


class OrganizationMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationMembership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = OrganizationMembership.Role.MEMBER


class OrganizationInviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationInvite

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    invited_by = None
    status = OrganizationInvite.Status.PENDING


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A submitted application (no questions); pass ``status`` for other states."""

    class Meta:
        model = Application

    call = factory.SubFactory(FundingCallFactory)
    organization = factory.SubFactory(OrganizationFactory)
    reference = factory.Sequence(lambda n: f"TEST-2026-{n:05d}")
    status = ApplicationStatus.SUBMITTED
    title = "Rapid response lawyers"
    requested_amount = factory.LazyAttribute(lambda o: Money(5000, o.call.fund.currency))
    submitted_at = factory.LazyFunction(timezone.now)


def approved_application(fund, *, decided_by, amount=None, organization=None, **kwargs):
    """An application to a call of ``fund`` approved by ``decided_by`` for ``amount``."""
    amount = amount or Money(5000, fund.currency)
    extra = {"organization": organization} if organization is not None else {}
    return ApplicationFactory(
        call=FundingCallFactory(fund=fund),
        status=ApplicationStatus.APPROVED,
        requested_amount=amount,
        award_amount=amount,
        decided_by=decided_by,
        decided_at=timezone.now(),
        **extra,
        **kwargs,
    )
