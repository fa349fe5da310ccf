"""An honest demo: `make demo` links to the port it serves, runs the scheduled jobs beside the web
server and stops them with it, shows the portal's own error pages, and `seed_demo` prints the
logins first and a line per part of the demo."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.http import Http404
from django.test import override_settings
from django.urls import path

from grants.demo_processes import run_together
from grants.management.commands import demo_scheduler

ROOT = Path(__file__).resolve().parent.parent


def _make_demo_dry_run(*variables) -> str:
    env = {key: value for key, value in os.environ.items() if key != "BASE_URL"}
    result = subprocess.run(
        # --no-print-directory: under `make test` (MAKELEVEL set) make would add "Leaving directory".
        ["make", "--no-print-directory", "-n", "demo", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_demo_links_follow_the_port_and_start_the_scheduler():
    commands = _make_demo_dry_run("PORT=8123").splitlines()
    seed = next(line for line in commands if "manage.py seed_demo" in line)
    serve = next(line for line in commands if "manage.py demo_serve" in line)
    for line in (seed, serve):
        assert "BASE_URL='http://127.0.0.1:8123'" in line and "PORTAL_ERROR_PAGES=1" in line
    assert serve.endswith("demo_serve 127.0.0.1:8123")
    assert not any("manage.py runserver" in line for line in commands)  # demo_serve runs it
    assert ":8000" not in "\n".join(commands)


def test_make_demo_on_every_interface_links_to_this_machine():
    serve = _make_demo_dry_run("HOST=0.0.0.0", "PORT=9001").splitlines()[-1]
    assert "BASE_URL='http://127.0.0.1:9001'" in serve and "ALLOWED_HOSTS='*'" in serve
    assert serve.endswith("demo_serve 0.0.0.0:9001")


def test_without_base_url_the_settings_follow_the_port():
    env = {key: value for key, value in os.environ.items() if key != "BASE_URL"}
    env.update(PORT="8123", DJANGO_SETTINGS_MODULE="fundportal.settings")
    code = "from django.conf import settings; print(settings.WAGTAILADMIN_BASE_URL)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "http://127.0.0.1:8123", result.stderr


# --- The processes: started together, stopped together -----------------------------------------


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that never reaps it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for(predicate, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


def _sleeper(pid_file: Path, *, child: bool = False) -> list[str]:
    """A process that writes its pid (and, with ``child``, starts a child of its own, as
    runserver's reloader does, and writes that one's pid too), then sleeps."""
    code = (
        "import os, subprocess, sys, time\n"
        f"pids = [os.getpid()]\n"
        f"if {child}: pids.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']).pid)\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write(' '.join(map(str, pids)))\n"
        f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        "time.sleep(600)\n"
    )
    return [sys.executable, "-c", code]


def _pids(pid_file: Path) -> list[int]:
    _wait_for(pid_file.exists, f"{pid_file.name} written")
    return [int(pid) for pid in pid_file.read_text().split()]


def test_when_the_web_server_ends_the_background_jobs_end_too(tmp_path):
    background = tmp_path / "background"
    main = [
        sys.executable,
        "-c",
        f"import os, time\nwhile not os.path.exists({str(background)!r}): time.sleep(0.05)",
    ]
    assert run_together(main, [_sleeper(background)]) == 0
    [pid] = _pids(background)
    assert not _alive(pid)


def _supervisor(tmp_path) -> tuple[subprocess.Popen, list[int]]:
    """``run_together`` in a process of its own, as `make demo` runs it: a web server with a
    child, and a background job. Returns the process and every pid it started."""
    web, job = tmp_path / "web", tmp_path / "job"
    code = (
        "import json, sys\nfrom grants.demo_processes import run_together\n"
        "sys.exit(run_together(*json.loads(sys.argv[1])))"
    )
    arguments = json.dumps([_sleeper(web, child=True), [_sleeper(job)]])
    process = subprocess.Popen([sys.executable, "-c", code, arguments], cwd=ROOT)
    return process, _pids(web) + _pids(job)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stopping_the_demo_stops_everything_it_started(tmp_path, sig):
    process, pids = _supervisor(tmp_path)
    assert all(_alive(pid) for pid in pids)
    process.send_signal(sig)
    assert process.wait(timeout=60) == 0
    _wait_for(lambda: not any(_alive(pid) for pid in pids), "every process stopped")


def test_killing_the_demo_outright_still_stops_its_processes(tmp_path):
    """``kill -9`` leaves no time to clean up: the kernel tells the children (Linux)."""
    process, pids = _supervisor(tmp_path)
    web, _web_child, job = pids
    process.kill()
    process.wait(timeout=60)
    _wait_for(lambda: not _alive(web) and not _alive(job), "the web server and the job stopped")


# --- The scheduler -----------------------------------------------------------------------------


def test_the_scheduler_runs_the_daily_jobs_and_the_digest(db):
    out = io.StringIO()
    call_command("demo_scheduler", "--once", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split("] ")[1].split(":")[0] for line in lines] == ["run_daily", "send_digests"]
    assert "installments became due" in lines[0] and "officer digest" in lines[1]


def test_a_failing_job_does_not_stop_the_scheduler(db, monkeypatch, caplog):
    monkeypatch.setattr(demo_scheduler, "JOBS", ("no_such_command", "send_digests"))
    out = io.StringIO()
    call_command("demo_scheduler", "--once", stdout=out)
    assert "send_digests: Sent 0 officer digest(s)." in out.getvalue()
    assert "no_such_command failed" in caplog.text


@pytest.mark.parametrize("command", ["demo_scheduler", "demo_serve"])
def test_the_demo_processes_refuse_to_run_outside_demo_mode(settings, command):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command(command, "--once" if command == "demo_scheduler" else "127.0.0.1:1")


# --- The portal's own error pages --------------------------------------------------------------


def _boom(request):
    raise RuntimeError("a bug")


def _missing(request):
    raise Http404


urlpatterns = [path("boom/", _boom), path("missing/", _missing)]


@pytest.mark.parametrize(
    ("url", "title", "home"),
    [
        ("/en/no-such-page/", "Page not found", 'href="/en/"'),
        ("/es/no-such-page/", "Página no encontrada", 'href="/es/"'),
        ("/no-such-place/", "Page not found", 'href="/en/"'),  # outside the language prefixes
    ],
)
def test_the_demo_shows_the_portals_404_page_not_the_list_of_urls(db, client, settings, url, title, home):
    settings.DEBUG, settings.PORTAL_ERROR_PAGES = True, True
    response = client.get(url, follow=True)
    html = response.content.decode()
    assert response.status_code == 404
    assert title in html and home in html
    assert "URLconf" not in html and "Django tried these URL patterns" not in html


def test_without_the_setting_debug_keeps_djangos_page(db, client, settings):
    settings.DEBUG, settings.PORTAL_ERROR_PAGES = True, False
    assert "URLconf" in client.get("/en/no-such-page/").content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_the_demo_shows_the_portals_500_page_in_both_languages(db, client, settings, caplog):
    settings.DEBUG, settings.PORTAL_ERROR_PAGES = True, True
    client.raise_request_exception = False
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and "Algo salió mal" in html
    assert 'href="/en/"' in html and 'href="/es/"' in html
    assert "Traceback" not in html and "a bug" not in html
    assert "a bug" in caplog.text  # still on the console for whoever runs the demo


# --- seed_demo's output ------------------------------------------------------------------------


# Emails leave when the seed's transaction commits: a real commit, so they are sent while the
# command runs. Transactional tests empty every table, the roots Wagtail's migrations make
# included: ``seed_roots`` puts them back (serialized rollback would collide with the rows a
# non-transactional test on the same worker leaves behind).
SEED_DB = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seed_roots(transactional_db):
    from tests import pages

    pages.ensure_roots()


@SEED_DB
def test_seed_demo_prints_the_logins_first_and_a_line_per_part(seed_roots, settings, capsys):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8123"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) < 25, lines
    assert "http://127.0.0.1:8123/" in lines[0]
    assert lines[1].split() == ["ROLE", "FOUNDATION", "EMAIL", "PASSWORD"]
    assert "admin@demo.fundportal.org" in lines[2] and "demo-portal-2026" in lines[2]
    officer = next(line for line in lines if "officer@demo.fundportal.org" in line)
    assert "Program officer" in officer and "Bay Area Immigrant Defense Foundation" in officer
    for part in ("Foundations:", "Funds and calls:", "Applications:", "Donations:", "Emails:"):
        assert any(line.startswith(part) for line in lines), part
    assert "Subject:" not in out.getvalue() + capsys.readouterr().out
    emails = next(line for line in lines if line.startswith("Emails:"))
    assert int(emails.split()[1]) > 0  # the demo sent some, kept quiet


@SEED_DB
def test_seed_demo_shows_every_email_with_v2_and_they_link_to_the_port(seed_roots, settings, capsys):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8123"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", verbosity=2, stdout=out)
    printed = capsys.readouterr().out
    assert "Subject:" in printed and "http://127.0.0.1:8123/" in printed and ":8000" not in printed
    assert "ROLE" in out.getvalue()


# --- Sign-in words for staff too ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("foundation staff reach their work in the admin", "authenticator app",
                "Staff accounts are given by your foundation")),
        ("es", ("el personal de las fundaciones llega a su trabajo", "aplicación de autenticación",
                "Las cuentas del personal")),
    ],
)  # fmt: skip
def test_the_sign_in_page_speaks_to_staff_too(db, client, language, words):
    html = client.get(f"/{language}/accounts/login/").content.decode()
    for text in words:
        assert text in html
