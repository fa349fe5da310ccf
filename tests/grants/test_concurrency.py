"""Real concurrency on PostgreSQL: two connections racing on the same rows (skipped on SQLite)."""

import pytest

from grants.models import ActivityEntry, Application, ApplicationVersion, OrganizationMembership
from grants.services import applications as service
from tests import pages
from tests.concurrency import errors, race
from tests.factories import OrganizationFactory
from tests.grants.test_applications import _draft, make_setup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_drafts(transactional_db):
    data = make_setup(pages.build_site())
    first, sections = _draft(data)
    org = OrganizationFactory()
    OrganizationMembership.objects.create(organization=org, user=data["applicant"], role="owner")
    second, _ = _draft({**data, "organization": org})
    return data, first, second, sections


def test_double_submit_from_two_connections_is_one_submission(two_drafts):
    data, first, _second, sections = two_drafts
    submit = lambda: service.submit_application(  # noqa: E731
        Application.objects.get(pk=first.pk), sections=sections, by=data["applicant"], actor="applicant"
    )
    assert errors(race(submit, submit)) == []
    assert ActivityEntry.objects.filter(subject_id=first.pk, action="submitted").count() == 1
    assert ApplicationVersion.objects.filter(application=first).count() == 1


def test_simultaneous_submissions_get_different_references(two_drafts):
    data, first, second, sections = two_drafts
    calls = [
        (lambda pk=pk: service.submit_application(
            Application.objects.get(pk=pk), sections=sections, by=data["applicant"], actor="applicant"
        ))
        for pk in (first.pk, second.pk)
    ]  # fmt: skip
    assert errors(race(*calls)) == []
    references = set(Application.objects.values_list("reference", flat=True))
    assert len(references) == 2 and None not in references
