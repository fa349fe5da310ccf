"""Data for the two-node test, written by a process of its own (as the worker would).

Run with ``manage.py shell -c "exec(open('tests/scale/seed_nodes.py').read())"`` under the
nodes' environment (object storage on). Prints one JSON line: ids, session cookies, and the
export the "worker" built and stored.
"""

import datetime
import json

from django.test import Client
from djmoney.money import Money

from grants.demo_questions import eligibility_json, questions_json
from grants.models import OrganizationMembership, Role
from grants.services import applications as application_service
from grants.services import exports as export_service
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.security_helpers import record_second_factor

site = pages.build_site()
foundation = FoundationFactory(slug="two-nodes")
fund = FundFactory(foundation=foundation)
call = FundingCallFactory(fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD"))
fund_pages = pages.add_fund_page(site, fund)
pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)
owner = UserFactory(email="owner@two-nodes.example", preferred_language="en")
stranger = UserFactory(email="stranger@two-nodes.example", preferred_language="en")
organization = OrganizationFactory()
OrganizationMembership.objects.create(organization=organization, user=owner, role="owner")
application = application_service.start_application(
    call=call, organization=organization, by=owner, language="en"
)
auditor = UserFactory(email="auditor@two-nodes.example", is_staff=True)
add_staff(auditor, foundation=foundation, role=Role.AUDITOR)


def session_of(user, *, staff=False):
    client = Client()
    client.force_login(user)
    if staff:
        record_second_factor(client, user)
    return client.cookies["sessionid"].value


# The export is built here, in this process, the way the worker builds it.
today = datetime.date.today()
job = export_service.request_export(
    foundation=foundation, by=auditor, date_from=today - datetime.timedelta(days=30), date_to=today
)
job = export_service.run_export(job.pk)
print(
    json.dumps(
        {
            "application": application.pk,
            "owner": session_of(owner),
            "stranger": session_of(stranger),
            "auditor": session_of(auditor, staff=True),
            "export": job.pk,
            "export_status": job.status,
            "export_name": job.file.name,
        }
    )
)
