"""The production switch: with HYPERDATASETS_HTTPS=true (and the documented variables) Django's deployment
check has nothing to say, and the transport protections are really on."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, code: list[str], **env) -> subprocess.CompletedProcess:
    # The process environment of a deployment: none of the test run's own switches (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright's event loop).
    dropped = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(HYPERDATASETS_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_the_production_variables(tmp_path):
    done = _run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                HYPERDATASETS_HTTPS="true", ALLOWED_HOSTS="data.example.com")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    # Without the switch the same check names what is missing.
    plain = _run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert plain.returncode != 0 and "SECURE_SSL_REDIRECT" in plain.stdout + plain.stderr


def test_the_switch_turns_on_redirects_hsts_and_secure_cookies(tmp_path):
    probe = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'hyperdatasets.settings'; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "r = c.get('/accounts/login/', HTTP_HOST='data.example.com')\n"
        "print('plain', r.status_code, r['Location'])\n"
        "r = c.get('/accounts/login/', HTTP_HOST='data.example.com', HTTP_X_FORWARDED_PROTO='https')\n"
        "print('https', r.status_code, r['Strict-Transport-Security'], r.cookies['csrftoken']['secure'])\n"
    )
    done = _run(tmp_path, ["-c", probe], HYPERDATASETS_HTTPS="true", ALLOWED_HOSTS="data.example.com")
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["plain"] == "301 https://data.example.com/accounts/login/"
    assert lines["https"].startswith("200 max-age=31536000; includeSubDomains; preload") and \
        lines["https"].endswith("True")
