"""Generate a portal at production scale for benchmarks: foundations, funds, calls and their pages,
organizations with members, tens of thousands of applications, hundreds of thousands of donations
and, when asked, a journal of a million lines.

    manage.py seed_scale --applications 50000 --donations 200000
    manage.py seed_scale --foundations 1 --applications 0 --donations 0 --journal-lines 1000000

Rows go in with ``bulk_create`` in batches, so no per-row service, signal or email runs; the
command still keeps the rules the services keep: each journal entry's lines sum to zero in the
entry's currency (the PostgreSQL triggers check it at commit), every row of a foundation points
to that foundation, receipt numbers are unique per foundation. The same ``--seed`` gives the
same data; a second run with the same seed is refused (its foundations already exist).

Refuses to run unless DEMO_MODE is on or ``--i-know`` is given: it is for benchmark and demo
databases, never for production data.
"""

import datetime
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from djmoney.money import Money
from wagtail.models import Locale, Page, Site

from cms.models import FundIndexPage, FundingCallPage, FundPage, HomePage
from cms.sections import ensure_foundation_section
from grants.demo_questions import demo_answers, eligibility_json, questions_json
from grants.models import (
    AccountKind,
    Application,
    ApplicationStatus,
    Donation,
    DonationStatus,
    Donor,
    EntryCause,
    Foundation,
    Fund,
    FundingCall,
    GiftKind,
    JournalEntry,
    JournalLine,
    LegalStatus,
    Organization,
    OrganizationMembership,
    PaymentChannel,
    ProgramType,
    Role,
    User,
)
from grants.questions import split_sections
from grants.services import ledger
from grants.services.staff import add_staff

S = ApplicationStatus
# (status, weight): the mix of a portal that has run for a few years.
APPLICATION_MIX = [
    (S.DRAFT, 5), (S.SUBMITTED, 30), (S.SCREENING, 10), (S.IN_REVIEW, 15), (S.MORE_INFO_REQUESTED, 5),
    (S.RESUBMITTED, 3), (S.APPROVED, 17), (S.DECLINED, 13), (S.WITHDRAWN, 2),
]  # fmt: skip
D = DonationStatus
DONATION_MIX = [
    (D.COMPLETED, 88), (D.PARTIALLY_REFUNDED, 2), (D.REFUNDED, 2), (D.DISPUTED, 1), (D.PENDING, 4),
    (D.EXPIRED, 3),
]  # fmt: skip
RECEIVED = (D.COMPLETED, D.PARTIALLY_REFUNDED, D.REFUNDED, D.DISPUTED)
REVIEWED = (S.IN_REVIEW, S.APPROVED, S.DECLINED, S.RESUBMITTED, S.MORE_INFO_REQUESTED)
PROGRAMS = [ProgramType.DEPORTATION_DEFENSE, ProgramType.HOTLINE_STIPENDS, ProgramType.CO_ENFORCEMENT]
BIG_CALL_MINIMUM = 1000  # the officers' list is measured on a call with at least this many
DASHBOARD_APPLICATIONS = 100  # what the first organization (the bench's applicant) has, at full scale


@dataclass
class ScaleData:
    """What was generated: counts, and the rows and logins a benchmark needs."""

    seed: int
    counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    foundation_ids: list = field(default_factory=list)
    fund_ids: list = field(default_factory=list)
    call_ids: list = field(default_factory=list)
    big_call_id: int | None = None
    officer_email: str = ""
    admin_email: str = ""
    applicant_email: str = ""


def _weighted(rng: random.Random, mix):
    values, weights = zip(*mix, strict=True)
    return lambda: rng.choices(values, weights)[0]


# Field types whose values go to the database as they are; any other field (dates and amounts on
# SQLite, JSON, encrypted columns, or a custom field) converts each value with its own
# ``get_db_prep_save``. Exact types: a subclass may convert.
PLAIN_FIELDS = {
    models.CharField, models.TextField, models.EmailField, models.SlugField, models.IntegerField,
    models.PositiveIntegerField, models.PositiveSmallIntegerField, models.BooleanField,
}  # fmt: skip


def _column_converters(model, with_ids: bool):
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    converters = []
    for f in fields:
        plain = type(f) in PLAIN_FIELDS or isinstance(f, models.ForeignKey) or f.primary_key
        converters.append(None if plain else (lambda value, f=f: f.get_db_prep_save(value, connection)))
    return fields, converters


def allocate_ids(model, count: int) -> list[int]:
    """``count`` primary keys for rows about to be inserted with explicit ids.

    PostgreSQL hands them out from the table's sequence (safe with concurrent writers); SQLite
    continues after the largest id, which is safe because the caller's transaction already holds
    SQLite's single write lock."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def raw_insert(model, rows, *, defaults=None, with_ids=False, batch_size=2000) -> int:
    """Insert ``rows`` (dicts by attribute name, e.g. ``fund_id``, ``amount``, ``currency``) without
    building model instances: COPY on PostgreSQL, ``executemany`` elsewhere.

    Every concrete column is written; a column missing from a row takes ``defaults`` then the
    field's default, so a field added to the model later gets its default rather than NULL. No
    ``save()``, no signal. Values go through each field's ``get_db_prep_save`` where the type needs
    it (JSON, dates, encrypted columns), so they are stored as the ORM would store them. With
    ``with_ids`` every row carries its ``id`` (from ``allocate_ids``)."""
    fields, converters = _column_converters(model, with_ids)
    fallback = {f.attname: f.get_default() for f in fields} | (defaults or {})
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)

    def prepared(row):
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(
                (row[name] if name in row else fallback[name] for name in names), converters, strict=True
            )
        )

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        for batch in _batches(rows, batch_size):
            cursor.executemany(sql, [prepared(row) for row in batch])
            count += len(batch)
    return count


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ScaleSeeder:
    """Builds the data; ``run()`` returns a ``ScaleData``. Runs inside one transaction."""

    def __init__(self, *, foundations=2, funds=6, calls=20, applications=50_000, donations=200_000,
                 organizations=5_000, donors=None, journal_lines=0, seed=1, batch_size=2000, out=None):  # fmt: skip
        if min(foundations, funds, calls, organizations) < 1:
            raise CommandError("There must be at least one foundation, fund, call and organization.")
        if funds < foundations:
            raise CommandError("Give every foundation at least one fund (--funds ≥ --foundations).")
        if calls < funds:
            raise CommandError("Give every fund at least one call (--calls ≥ --funds).")
        if journal_lines == 1 or min(applications, donations, journal_lines) < 0:
            raise CommandError("Counts cannot be negative, and a journal entry needs at least two lines.")
        self.n_foundations, self.n_funds, self.n_calls = foundations, funds, calls
        self.n_applications, self.n_donations, self.n_organizations = applications, donations, organizations
        self.n_donors = max(foundations, donors if donors is not None else donations // 10)
        self.n_journal_lines = journal_lines
        self.seed, self.batch_size = seed, batch_size
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.tag = f"scale{seed}"
        self.out = out
        self.data = ScaleData(seed=seed)

    def say(self, message: str) -> None:
        if self.out is not None:
            self.out.write(message)

    def step(self, name: str, function):
        started = time.perf_counter()
        result = function()
        self.data.seconds[name] = round(time.perf_counter() - started, 2)
        self.say(f"  {name}: {self.data.counts.get(name, '')} in {self.data.seconds[name]:.1f} s")
        return result

    def run(self) -> ScaleData:
        if Foundation.objects.filter(slug__startswith=f"{self.tag}-").exists():
            raise CommandError(f"Scale data of seed {self.seed} exists already; pass another --seed.")
        with transaction.atomic():
            self.step("foundations", self.make_foundations)
            self.step("pages", self.make_pages)
            self.step("organizations", self.make_organizations)
            self.step("applications", self.make_applications)
            self.step("donors", self.make_donors)
            self.step("donations", self.make_donations)
            self.step("journal_lines", self.make_journal)
        self.step("statistics", self.analyze)
        return self.data

    def analyze(self):
        """Leave the tables as autovacuum does soon after a bulk load: planner statistics
        refreshed (without them the first queries are planned for empty tables) and, on
        PostgreSQL, the visibility map set (``VACUUM``: counts and id lists read from indexes
        alone, as on a live portal). ``VACUUM`` cannot run inside a transaction: there (tests),
        statistics only."""
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")

    # --- Foundations, funds, calls, staff ------------------------------------------------------

    def make_foundations(self):
        self.foundations = [
            Foundation.objects.create(
                name=f"Scale Foundation {n}",
                slug=f"{self.tag}-{n}",
                legal_name=f"Scale Foundation {n}, Inc.",
                tax_id="12-3456789",
                contact_email=f"grants{n}@{self.tag}.example.org",
            )  # fmt: skip
            for n in range(self.n_foundations)
        ]
        self.funds = Fund.objects.bulk_create(
            Fund(
                foundation=self.foundations[n % self.n_foundations],
                name=f"Scale Fund {n}",
                slug=f"{self.tag}-fund-{n}",
                program_type=PROGRAMS[n % len(PROGRAMS)],
                currency="USD",
                fundraising_goal=Money(250_000 + 50_000 * n, "USD"),
            )  # fmt: skip
            for n in range(self.n_funds)
        )
        day = datetime.timedelta(days=1)
        calls = []
        for n in range(self.n_calls):
            # The first call is open and takes the most applications; then open, closed, upcoming.
            kind = "open" if n == 0 else ("open", "closed", "upcoming", "open")[n % 4]
            opens, closes = {"open": (-30, 30 + n), "closed": (-400 + n, -200 + n), "upcoming": (10, 60)}[
                kind
            ]
            rapid = n % 7 == 3
            calls.append(
                FundingCall(
                    fund=self.funds[n % self.n_funds],
                    title=f"Scale Call {n}",
                    time_zone="America/Los_Angeles",
                    opens_at=self.now + opens * day,
                    closes_at=self.now + closes * day,
                    min_amount=Money(1000, "USD"),
                    max_amount=Money(50_000, "USD"),
                    rapid_response=rapid,
                    decision_target_hours=72 if rapid else None,
                )  # fmt: skip
            )
        self.calls = FundingCall.objects.bulk_create(calls)
        self.calls_taking_applications = [c for c in self.calls if c.opens_at <= self.now]
        staff = {}
        for role in (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER):
            for n, foundation in enumerate(self.foundations):
                user = User.objects.create_user(
                    f"{role.replace('_', '-')}-{n}@{self.tag}.example.org", first_name="Scale", last_name=role
                )
                add_staff(user, foundation=foundation, role=role)
                staff.setdefault(role, []).append(user)
        self.officer = staff[Role.PROGRAM_OFFICER][0]
        self.data.officer_email = self.officer.email
        self.data.admin_email = staff[Role.FOUNDATION_ADMIN][0].email
        self.data.foundation_ids = [f.pk for f in self.foundations]
        self.data.fund_ids = [f.pk for f in self.funds]
        self.data.call_ids = [c.pk for c in self.calls]
        self.data.counts["foundations"] = (
            f"{len(self.foundations)} foundations, {len(self.funds)} funds, {len(self.calls)} calls"
        )

    # --- Wagtail pages: home and fund index (reused when present), a page per fund and call ----

    def make_pages(self):
        locales = {
            code: Locale.objects.get_or_create(language_code=code)[0] for code, _ in settings.LANGUAGES
        }
        home = HomePage.objects.filter(locale=locales["en"]).first()
        if home is None:
            root = Page.get_first_root_node()
            # A fresh database has Wagtail's placeholder welcome page as the site root: replace it.
            for placeholder in root.get_children().exact_type(Page):
                Site.objects.filter(root_page=placeholder).delete()
                placeholder.delete()
            home = root.add_child(instance=HomePage(title="Funding home", slug="home", locale=locales["en"]))
            home.save_revision().publish()
        if not Site.objects.filter(is_default_site=True).exists():
            Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
        index = FundIndexPage.objects.child_of(home).first()
        if index is None:
            index = home.add_child(instance=FundIndexPage(title="Funds", slug="funds", locale=locales["en"]))
            index.save_revision().publish()
        indexes = {"en": index}
        for code, locale in locales.items():
            if code != "en":
                self._translation(home, locale)
                indexes[code] = self._translation(index, locale)
        count = 0
        fund_pages = {}
        sections = {}  # each foundation's section, per language: fund pages live there
        for fund in self.funds:
            fund_pages[fund.pk] = {}
            if fund.foundation_id not in sections:
                sections[fund.foundation_id] = ensure_foundation_section(fund.foundation)
            for code in indexes:
                page = sections[fund.foundation_id][code].add_child(
                    instance=FundPage(
                        title=f"{fund.name} ({code})",
                        slug=fund.slug,
                        fund=fund,
                        locale=locales[code],
                        summary="Lawyers, bonds and filing fees for people facing removal.",
                        body="<p>"
                        + "Money for deportation defense, raised from the community. " * 20
                        + "</p>",
                    )  # fmt: skip
                )
                page.save_revision().publish()
                fund_pages[fund.pk][code] = page
                count += 1
        for call in self.calls:
            for code in indexes:
                page = fund_pages[call.fund_id][code].add_child(
                    instance=FundingCallPage(
                        title=f"{call.title} ({code})",
                        slug=f"call-{call.pk}",
                        funding_call=call,
                        locale=locales[code],
                        summary="Grants for legal defense.",
                        eligibility="<p>Groups serving immigrant workers.</p>",
                        questions=questions_json(code),
                        eligibility_questions=eligibility_json(code),
                    )  # fmt: skip
                )
                page.save_revision().publish()
                count += 1
        first = FundingCallPage.objects.filter(funding_call=self.calls[0], locale=locales["en"]).get()
        self.snapshot = [
            {"section": str(s.heading), "section_help": str(s.help_text), "number": s.number,
             "questions": [q.as_dict() for q in s.questions]}
            for s in split_sections(first.get_questions(), first_heading="About your request")
        ]  # fmt: skip
        self.data.counts["pages"] = f"{count} pages"

    @staticmethod
    def _translation(page, locale):
        existing = page.get_translations().filter(locale=locale).first()
        if existing is not None:
            return existing.specific
        copy = page.copy_for_translation(locale)
        copy.save_revision().publish()
        return copy.specific

    # --- Organizations and members -------------------------------------------------------------

    def make_organizations(self):
        n_orgs = self.n_organizations
        self.member_ids = allocate_ids(User, n_orgs)
        self.organization_ids = allocate_ids(Organization, n_orgs)
        password = make_password(None)  # no one signs in as these people
        size = self.batch_size
        raw_insert(User, (
            {"id": pk, "email": f"member-{n}@{self.tag}.example.org", "first_name": "Member", "last_name": str(n),
             "password": password, "date_joined": self.now, "preferred_language": "es" if n % 3 == 0 else "en"}
            for n, pk in enumerate(self.member_ids)
        ), with_ids=True, batch_size=size)  # fmt: skip
        raw_insert(Organization, (
            {"id": pk, "name": f"Community Group {self.tag} {n}", "mission": "Rapid response and know-your-rights.",
             "region_served": "Alameda County", "languages": "Spanish, English",
             "legal_status": LegalStatus.NONPROFIT if n % 3 == 0 else LegalStatus.UNINCORPORATED,
             "tax_id": "12-3456789" if n % 3 == 0 else "", "publish_name": n % 4 == 0,
             "created_by_id": self.member_ids[n], "created_at": self.now}
            for n, pk in enumerate(self.organization_ids)
        ), with_ids=True, batch_size=size)  # fmt: skip
        raw_insert(OrganizationMembership, (
            {"organization_id": org, "user_id": user, "role": OrganizationMembership.Role.OWNER, "joined_at": self.now}
            for org, user in zip(self.organization_ids, self.member_ids, strict=True)
        ), batch_size=size)  # fmt: skip
        self.data.applicant_email = f"member-0@{self.tag}.example.org"
        self.data.counts["organizations"] = f"{n_orgs} organizations and members"

    # --- Applications ----------------------------------------------------------------------------

    def _application_targets(self):
        """(call, organization id) per application: the first call takes at least
        ``BIG_CALL_MINIMUM`` (all, when fewer); the first organization about one in a hundred."""
        calls, n, orgs = self.calls_taking_applications, self.n_applications, self.organization_ids
        big = min(n, max(BIG_CALL_MINIMUM, -(-n // len(calls))))
        stride = max(2, n // DASHBOARD_APPLICATIONS) if len(orgs) > 1 else 1
        for i in range(n):
            call = calls[0] if i < big or len(calls) == 1 else calls[1 + (i - big) % (len(calls) - 1)]
            organization = orgs[0] if i % stride == 0 else orgs[1 + i % (len(orgs) - 1)]
            yield call, organization

    def _applications(self):
        rng, minute = self.rng, datetime.timedelta(minutes=1)
        status_of = _weighted(rng, APPLICATION_MIX)
        for i, (call, organization) in enumerate(self._application_targets()):
            status = status_of()
            amount = Decimal(1000 + rng.randrange(49) * 1000)
            submitted = status != S.DRAFT
            created = max(call.opens_at, self.now - rng.randrange(60 * 24 * 300) * minute)
            submitted_at = created + rng.randrange(60 * 24 * 5) * minute if submitted else None
            reviewed, decided = status in REVIEWED, status in (S.APPROVED, S.DECLINED)
            reviews = rng.randrange(1, 4) if reviewed else 0
            fund = rng.randrange(reviews + 1)
            maybe = rng.randrange(reviews - fund + 1)
            title = f"Rapid response lawyers {i}"
            yield {
                "call_id": call.pk, "organization_id": organization, "status": status, "title": title,
                "reference": f"{self.tag.upper()}-{i:07d}" if submitted else None,
                "language": "es" if i % 3 == 0 else "en",
                "requested_amount": amount, "requested_currency": call.fund.currency,
                "answers": demo_answers(title, int(amount)), "sensitive_answers": {},
                "question_snapshot": self.snapshot if submitted else [],
                "created_by_id": self.member_ids[0] if organization == self.organization_ids[0] else None,
                "created_at": created, "updated_at": submitted_at or created, "submitted_at": submitted_at,
                "withdrawn_at": submitted_at if status == S.WITHDRAWN else None,
                "award_amount": amount if status == S.APPROVED else None,
                "award_currency": call.fund.currency if status == S.APPROVED else None,
                "decided_by_id": self.officer.pk if decided else None,
                "decided_at": submitted_at + 3 * 24 * 60 * minute if decided else None,
                "decision_reason": "Outside this call's priorities." if status == S.DECLINED else "",
                "review_score": Decimal(rng.randrange(0, 500)) / 100 if reviewed else None,
                "review_count": reviews, "fund_count": fund, "maybe_count": maybe,
                "do_not_fund_count": reviews - fund - maybe,
                "decision_due_at": submitted_at + 72 * 60 * minute if call.rapid_response and submitted else None,
            }  # fmt: skip

    def make_applications(self):
        count = raw_insert(Application, self._applications(), batch_size=self.batch_size)
        if count:
            self.data.big_call_id = self.calls_taking_applications[0].pk
        self.data.counts["applications"] = f"{count} applications"

    # --- Donors and donations ------------------------------------------------------------------

    def make_donors(self):
        n_donors = self.n_donors if self.n_donations else 0
        ids = allocate_ids(Donor, n_donors)
        foundations = [self.foundations[n % self.n_foundations].pk for n in range(n_donors)]
        raw_insert(Donor, (
            {"id": pk, "foundation_id": foundations[n], "email": f"donor{n}@{self.tag}.example.org",
             "name": f"Donor Número {n}", "language": "es" if n % 4 == 0 else "en",
             "consent_to_contact": n % 2 == 0, "created_at": self.now}
            for n, pk in enumerate(ids)
        ), with_ids=True, batch_size=self.batch_size)  # fmt: skip
        self.donors_by_foundation = {f.pk: [] for f in self.foundations}
        for pk, foundation in zip(ids, foundations, strict=True):
            self.donors_by_foundation[foundation].append(pk)
        self.data.counts["donors"] = f"{n_donors} donors"

    def _donations(self, ids):
        rng = self.rng
        status_of = _weighted(rng, DONATION_MIX)
        receipt = {f.pk: 0 for f in self.foundations}
        today = self.now.date()
        cent, rate, fixed = Decimal("0.01"), Decimal("0.029"), Decimal("0.30")
        for n, pk in enumerate(ids):
            fund = self.funds[n % self.n_funds]
            donors = self.donors_by_foundation[fund.foundation_id]
            status = status_of()
            received = status in RECEIVED
            amount = Decimal(rng.choice((10, 25, 50, 100, 250)) + rng.randrange(100))
            check = n % 9 == 0
            fee = None if check or not received else (amount * rate + fixed).quantize(cent)
            if received:
                receipt[fund.foundation_id] += 1
            day = today - datetime.timedelta(days=rng.randrange(730))
            refunded = {D.REFUNDED: amount, D.PARTIALLY_REFUNDED: (amount / 2).quantize(cent)}.get(status)
            if received:
                self.received.append((pk, fund, amount, fee, day))
            yield {
                "id": pk, "foundation_id": fund.foundation_id, "fund_id": fund.pk,
                "donor_id": donors[rng.randrange(len(donors))],
                "kind": GiftKind.MONTHLY if n % 5 == 0 else GiftKind.ONE_TIME,
                "channel": PaymentChannel.CHECK if check else PaymentChannel.STRIPE, "status": status,
                "amount": amount, "currency": fund.currency, "gross": amount, "gross_currency": fund.currency,
                "fee": fee, "fee_currency": fund.currency if fee is not None else None,
                "amount_refunded": refunded, "refunded_currency": fund.currency if refunded is not None else None,
                "anonymous": n % 11 == 0,
                "charge_id": f"ch_{self.tag}_{n:08d}" if received and not check else "",
                "payment_intent_id": f"pi_{self.tag}_{n:08d}" if not check else None,
                "reference": f"check {n}" if check else "",
                "receipt_number": receipt[fund.foundation_id] if received else None,
                "received_on": day if received else None,
                "created_at": datetime.datetime.combine(day, datetime.time(11), tzinfo=datetime.UTC),
                "completed_at": datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
                if received else None,
            }  # fmt: skip

    def make_donations(self):
        # What the journal needs of each received gift: (pk, fund, gross, fee, day).
        self.received = []
        ids = allocate_ids(Donation, self.n_donations)
        count = raw_insert(Donation, self._donations(ids), with_ids=True, batch_size=self.batch_size)
        self.data.counts["donations"] = f"{count} donations"

    # --- Journal ----------------------------------------------------------------------------------

    def _entries(self):
        """(entry, lines) making exactly ``n_journal_lines`` lines, each entry balanced in its
        fund's currency. Received gifts first (cash, and the fee, against donations), then income
        from outside the processor; sizes are chosen so that one line is never left over."""
        accounts = {fund.pk: {k: a.pk for k, a in ledger.accounts_for(fund).items()} for fund in self.funds}
        left = self.n_journal_lines
        for pk, fund, gross, fee, day in self.received:
            size = 3 if fee else 2
            if left - size < 0 or left - size == 1:
                break
            acc = accounts[fund.pk]
            cash = acc[AccountKind.BANK_CASH if fee is None else AccountKind.PROCESSOR_CASH]
            lines = [(cash, gross - (fee or 0))] + ([(acc[AccountKind.FEES], fee)] if fee else [])
            lines.append((acc[AccountKind.DONATIONS], -gross))
            left -= size
            yield {"foundation_id": fund.foundation_id, "currency": fund.currency, "cause": EntryCause.DONATION,
                   "memo": f"Donation #{pk} to {fund.name}", "effective_date": day, "donation_id": pk,
                   "created_at": self.now}, lines  # fmt: skip
        n = 0
        start = self.now.date() - datetime.timedelta(days=730)
        while left:
            fund = self.funds[n % self.n_funds]
            acc = accounts[fund.pk]
            amount = Decimal(100 + self.rng.randrange(10_000))
            cash, income = acc[AccountKind.BANK_CASH], acc[AccountKind.OTHER_INCOME]
            if left == 3:
                lines = [(cash, amount), (cash, amount), (income, -2 * amount)]
            else:
                lines = [(cash, amount), (income, -amount)]
            left -= len(lines)
            yield {"foundation_id": fund.foundation_id, "currency": fund.currency, "cause": EntryCause.INCOME,
                   "memo": f"Grant from a partner foundation {n}", "reference": f"wire {n}",
                   "effective_date": start + datetime.timedelta(days=n % 730), "created_at": self.now}, lines  # fmt: skip
            n += 1

    def make_journal(self):
        entries = lines = 0
        for batch in _batches(self._entries(), 20_000):
            ids = allocate_ids(JournalEntry, len(batch))
            for pk, (entry, _lines) in zip(ids, batch, strict=True):
                entry["id"] = pk
            entries += raw_insert(JournalEntry, (entry for entry, _lines in batch), with_ids=True,
                                  batch_size=self.batch_size)  # fmt: skip
            lines += raw_insert(JournalLine, (
                {"entry_id": entry["id"], "account_id": account, "amount": amount, "currency": entry["currency"]}
                for entry, entry_lines in batch for account, amount in entry_lines
            ), batch_size=self.batch_size)  # fmt: skip
        self.data.counts["journal_lines"] = f"{lines} journal lines in {entries} entries"


class Command(BaseCommand):
    help = "Generate benchmark data at scale with bulk inserts (demo mode or --i-know only)."

    def add_arguments(self, parser):
        parser.add_argument("--foundations", type=int, default=2)
        parser.add_argument("--funds", type=int, default=6, help="in all, shared out among the foundations")
        parser.add_argument("--calls", type=int, default=20, help="in all, shared out among the funds")
        parser.add_argument("--applications", type=int, default=50_000)
        parser.add_argument("--donations", type=int, default=200_000)
        parser.add_argument("--organizations", type=int, default=5_000, help="each with one member")
        parser.add_argument("--donors", type=int, default=None, help="default: one per ten donations")
        parser.add_argument("--journal-lines", type=int, default=0, help="balanced entries, gifts first")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--i-know", action="store_true", help="run outside demo mode (never on production data)"
        )

    def handle(self, *args, **options):
        if not (settings.DEMO_MODE or options["i_know"]):
            raise CommandError(
                "seed_scale adds tens of thousands of made-up rows; it runs only in demo mode, or with "
                "--i-know on a database that holds no real data."
            )
        started = time.perf_counter()
        self.stdout.write(f"Generating scale data (seed {options['seed']}) …")
        data = ScaleSeeder(
            foundations=options["foundations"], funds=options["funds"], calls=options["calls"],
            applications=options["applications"], donations=options["donations"],
            organizations=options["organizations"], donors=options["donors"],
            journal_lines=options["journal_lines"], seed=options["seed"], batch_size=options["batch_size"],
            out=self.stdout,
        ).run()  # fmt: skip
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s.")
        self.stdout.write(
            f"Officer: {data.officer_email}  admin: {data.admin_email}  applicant: {data.applicant_email}  "
            f"call with the most applications: #{data.big_call_id}"
        )
        self.stdout.write(json.dumps({"counts": data.counts, "seconds": data.seconds}))
