"""A service locking one row locks that row only, not the rows it reads along with it.

PostgreSQL's ``SELECT … FOR UPDATE`` locks a row of every table in the join unless ``OF`` names
the tables. Locking an installment together with its award, fund and foundation made two finance
officers' releases deadlock with the foreign-key checks of each other's inserts (every insert
that names the foundation must take a key-share lock on its row). Skipped on SQLite.
"""

import ast
import pathlib
import threading

import pytest
from django.db import OperationalError, connection, transaction

from grants.models import Award, Foundation, Fund, Installment, Organization
from grants.services import awards, installments, payments
from tests import pages
from tests.grants.money_fixtures import award_for, fund_with

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _select_for_update_with_joins_and_no_of(path: pathlib.Path) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        names, lock, current = [], None, node
        while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            names.append(current.func.attr)
            if current.func.attr == "select_for_update":
                lock = current
            current = current.func.value
        if lock and "select_related" in names and not any(k.arg == "of" for k in lock.keywords):
            found.append(lock.lineno)
    return sorted(set(found))


def test_every_row_lock_read_with_related_rows_names_the_rows_it_locks():
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "grants").rglob("*.py"))
        if "migrations" not in path.parts
        and "select_for_update" in path.read_text()
        and (lines := _select_for_update_with_joins_and_no_of(path))
    }
    assert offenders == {}, "select_for_update() with select_related() needs of=(…)"


def test_the_check_finds_a_lock_that_names_no_rows(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "a = Installment.objects.select_for_update().select_related('award').get(pk=1)\n"
        "b = Installment.objects.select_for_update(of=('self',)).select_related('award').get(pk=1)\n"
        "c = Installment.objects.select_for_update().get(pk=1)\n"
    )
    assert _select_for_update_with_joins_and_no_of(sample) == [1]


def _locked_elsewhere(table, pk) -> bool:
    """Whether another transaction holds a lock on the row (asked from this connection, no wait)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE NOWAIT', [pk])
    except OperationalError:
        return True
    return False


def _while_locked(lock, check):
    """Run ``lock()`` in a transaction on another connection and ``check()`` while it holds."""
    holding, done = threading.Event(), threading.Event()
    failure = []

    def hold():
        from django.db import connections

        try:
            with transaction.atomic():
                lock()
                holding.set()
                done.wait(timeout=30)
        except Exception as error:  # reported below
            failure.append(error)
            holding.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        assert not failure, failure
        return check()
    finally:
        done.set()
        thread.join(timeout=30)


@pytest.fixture
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_page_tree")
@pytest.mark.parametrize(
    ("lock_of", "own_model"),
    [
        pytest.param(
            lambda award: payments._lock_installment(award.installments.get()),
            Installment,
            id="payment release",
        ),  # fmt: skip
        pytest.param(
            lambda award: installments._lock(award.installments.get()), Installment, id="installment change"
        ),  # fmt: skip
        pytest.param(awards._lock_award, Award, id="award change"),
    ],
)
def test_locking_a_payment_or_award_leaves_its_fund_foundation_and_organization_free(
    world, lock_of, own_model
):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    own_pk = award.installments.get().pk if own_model is Installment else award.pk
    rows = {
        Foundation._meta.db_table: world["foundation"].pk,
        Fund._meta.db_table: award.fund_id,
        Organization._meta.db_table: award.application.organization_id,
    }

    def related_rows_locked():
        return {table: _locked_elsewhere(table, pk) for table, pk in rows.items()}

    assert _while_locked(lambda: lock_of(award), related_rows_locked) == dict.fromkeys(rows, False)
    # The probe does see a lock that is held: the locked row itself.
    own_table = own_model._meta.db_table
    assert _while_locked(lambda: lock_of(award), lambda: _locked_elsewhere(own_table, own_pk)) is True
