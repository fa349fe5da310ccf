"""Throw-away PostgreSQL databases for the benchmarks that run the portal in other processes.

A bench database is a copy of the run's test database (already migrated by pytest-django), made
with ``CREATE DATABASE … TEMPLATE``: a file copy that takes a second, where migrating a new
database takes a minute or more. It is dropped (``WITH (FORCE)``, closing whatever is still
connected) when the bench ends, whether it passed or not.
"""

import contextlib
import time
from collections.abc import Iterator

import psycopg
from django.db import connection, connections
from psycopg import sql

from . import server


def server_url(name: str) -> str:
    """``postgres://`` URL of database ``name`` on the server the test database lives on."""
    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _admin() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=settings.get("USER") or "postgres",
        password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
        autocommit=True,
    )


def drop(name: str) -> None:
    with _admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def copy_of_test_database(suffix: str, *, with_wagtail_root: bool = False) -> Iterator[str]:
    """A migrated database named ``<test database>_<suffix>``; yields its URL, drops it afterwards.

    Call it from a module-scoped fixture (set up before a test's transaction opens), inside
    ``django_db_blocker.unblock()``, in a module whose test is marked ``django_db`` (without a
    marked test pytest-django creates no test database). Never from a ``transaction=True`` test:
    those empty every table afterwards, Wagtail's root page and locales included, which the
    benches after it need. This process's connections to the test database are closed first,
    since PostgreSQL copies only a database nobody uses.
    """
    template = connection.settings_dict["NAME"]
    if template != (connection.settings_dict.get("TEST") or {}).get("NAME") and not template.startswith(
        "test_"
    ):
        # Without a test marked django_db in the run, pytest-django sets up no test database and
        # NAME is still the real database's: never copy (or name copies after) that one.
        raise RuntimeError(f"{template!r} is not the test database; mark the bench django_db")
    name = f"{template}_{suffix}"[:63]
    drop(name)
    for attempt in range(10):
        connections.close_all()
        try:
            with _admin() as admin:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            break
        except psycopg.errors.ObjectInUse:
            # Another session was still closing; give it a moment.
            if attempt == 9:
                raise
            time.sleep(0.5)
    try:
        url = server_url(name)
        if with_wagtail_root and not _has_wagtail_root(url):
            # An earlier transactional test emptied the test database (its data migrations'
            # rows included): migrate a new database instead, slower but complete.
            drop(name)
            with _admin() as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            server.run_python(server.portal_env(url), "manage.py", "migrate", "--noinput", "-v0", timeout=600)
        yield url
    finally:
        drop(name)


def _has_wagtail_root(url: str) -> bool:
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
        return db.execute("SELECT EXISTS (SELECT 1 FROM wagtailcore_page WHERE depth = 1)").fetchone()[0]
