"""The grantee dashboard puts what needs them first and folds what is finished away.

Finished grants (completed, cancelled), applications (declined, withdrawn, or approved and
become a grant) and reports handed in sit in a closed ``<details>`` whose summary counts them;
an offered grant, an application under review and a report to write stay in the open, in both
languages. Also: the ``{% labelled_table %}`` tag that gives each table cell its column's name
for the phone layout.
"""

import pytest
from bs4 import BeautifulSoup
from django.template import Context, Template
from django.utils import translation

from grants.models import Application, ApplicationStatus, Award, AwardStatus
from grants.templatetags.dashboard_tags import by_progress
from grants.templatetags.table_tags import label_cells
from tests.factories import ApplicationFactory, FundingCallFactory
from tests.grants.money_fixtures import award_for, fund_with

pytestmark = pytest.mark.django_db


def _dashboard(client, user, language):
    client.force_login(user)
    response = client.get(f"/{language}/dashboard/")
    assert response.status_code == 200
    return BeautifulSoup(response.content.decode(), "html.parser")


def _outside_details(soup, href) -> list:
    return [link for link in soup.select(f'main a[href="{href}"]') if link.find_parent("details") is None]


def _inside(soup, group_id, href) -> list:
    return soup.select(f'details#{group_id}:not([open]) a[href="{href}"]')


@pytest.mark.parametrize(
    ("language", "grants", "applications"),
    [
        ("en", "2 finished grants", "5 finished applications (decided or withdrawn)"),
        ("es", "2 subvenciones terminadas", "5 solicitudes terminadas (decididas o retiradas)"),
    ],
)
def test_finished_items_are_folded_away_and_actionable_ones_stay_open(
    world, client, language, grants, applications
):
    fund_with(world, 20000)
    offered = award_for(world, 1000)
    completed = award_for(world, 1000)
    cancelled = award_for(world, 1000)
    Award.objects.filter(pk=completed.pk).update(status=AwardStatus.COMPLETED)
    Award.objects.filter(pk=cancelled.pk).update(status=AwardStatus.CANCELLED)
    call = FundingCallFactory(fund=world["fund"])
    in_review = ApplicationFactory(
        call=call, organization=world["organization"], status=ApplicationStatus.IN_REVIEW
    )
    declined = ApplicationFactory(
        call=call, organization=world["organization"], status=ApplicationStatus.DECLINED
    )
    withdrawn = ApplicationFactory(
        call=call, organization=world["organization"], status=ApplicationStatus.WITHDRAWN
    )

    soup = _dashboard(client, world["grantee"], language)

    offered_link = f"/{language}/awards/{offered.pk}/"
    assert _outside_details(soup, offered_link), "an offer to accept is in the open"
    assert not soup.select(f'details#finished-awards a[href="{offered_link}"]')
    for award in (completed, cancelled):
        link = f"/{language}/awards/{award.pk}/"
        assert _inside(soup, "finished-awards", link), f"{award.status} award folded away"
        assert not _outside_details(soup, link)
    assert soup.select_one("details#finished-awards > summary").get_text(strip=True) == grants

    review_link = f"/{language}/applications/{in_review.pk}/"
    assert _outside_details(soup, review_link), "an application under review stays in the open"
    for application in (declined, withdrawn):
        link = f"/{language}/applications/{application.pk}/"
        assert _inside(soup, "finished-applications", link), f"{application.status} application folded away"
        assert not _outside_details(soup, link)
    # The offered award's application is approved and lives on as the grant: folded with the others.
    offered_application = Application.objects.get(award=offered)
    assert _inside(soup, "finished-applications", f"/{language}/applications/{offered_application.pk}/")
    assert soup.select_one("details#finished-applications > summary").get_text(strip=True) == applications


def test_nothing_finished_means_no_folded_group(world, client):
    call = FundingCallFactory(fund=world["fund"])
    ApplicationFactory(call=call, organization=world["organization"], status=ApplicationStatus.IN_REVIEW)
    soup = _dashboard(client, world["grantee"], "en")
    assert soup.select("details.finished-group") == [], "no empty group to open"


class _Row:
    def __init__(self, state):
        self.state = state


def test_reports_handed_in_are_finished_and_reports_to_write_are_current():
    rows = [_Row(state) for state in ("due", "overdue", "changes_requested", "submitted", "accepted")]
    groups = by_progress(rows, "report")
    assert [row.state for row in groups.current] == ["due", "overdue", "changes_requested"]
    assert [row.state for row in groups.finished] == ["submitted", "accepted"]


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        by_progress([_Row("due")], "receipt")


def test_each_cell_is_labelled_by_its_column_header():
    html = (
        '<table class="stack-on-phone"><thead><tr><th colspan="2">Volunteer &amp; day</th><th>Rate</th>'
        '<th><span class="visually-hidden">Actions</span></th></tr></thead>'
        '<tbody><tr><td>Luna</td><td>3 May</td><td data-label="Own">25 US$</td>'
        "<td><button>Quitar</button></td></tr></tbody></table>"
    )
    cells = BeautifulSoup(label_cells(html), "html.parser").select("tbody td")
    assert [cell.get("data-label") for cell in cells] == [
        "Volunteer & day",
        "Volunteer & day",
        "Own",
        "Actions",
    ]
    assert cells[3].button.get_text() == "Quitar", "the cells' content is untouched"


def test_the_tag_labels_cells_in_the_readers_language_and_escapes_headers():
    template = Template(
        "{% load i18n table_tags %}{% labelled_table %}<table><thead><tr><th>{{ head }}</th>"
        "<th>{% translate 'Status' %}</th></tr></thead><tbody><tr><td>1</td><td>x</td></tr></tbody>"
        "</table>{% endlabelled_table %}"
    )
    with translation.override("es"):
        html = template.render(Context({"head": '"><script>'}))
    cells = BeautifulSoup(html, "html.parser").select("td")
    assert [cell["data-label"] for cell in cells] == ['"><script>', "Estado"]
    assert "<script>" not in html
