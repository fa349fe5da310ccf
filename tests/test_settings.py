"""Production settings refuse unsafe defaults, and `check --deploy` is clean with real ones."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "x7!q-production-like-secret-key-for-tests-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "grants.example.org",
    "DATABASE_URL": "sqlite:////tmp/fundportal-deploy-check.sqlite3",
    # A Fernet key (32 bytes, URL-safe base64), required with DJANGO_DEBUG=0.
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5ISE=",
}


def _run(args, extra_env):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "SECRET_KEY", "FUNDPORTAL_TESTING")
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION_ENV)
    env.pop("SECRET_KEY")
    result = _run(["check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_demo_secret_key():
    env = dict(PRODUCTION_ENV, SECRET_KEY="demo-only-insecure-key-never-use-in-production-0123456789abcdef")
    result = _run(["check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = dict(PRODUCTION_ENV)
    env.pop("ALLOWED_HOSTS")
    result = _run(["check"], env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = _run(["check", "--deploy", "--fail-level", "DEBUG"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
