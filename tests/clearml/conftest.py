"""ClearML's own client (the ``clearml`` package, as a script would use it) against the live test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from clearml_api.credentials import credential_create


@pytest.fixture
def clearml(live_server, transactional_db, django_user_model, tmp_path):
    """Run a snippet of client code in a fresh interpreter configured with a credential of user ``scientist``
    (as a ClearML user's script would be: three environment variables); it prints one JSON line, returned."""
    user = django_user_model.objects.create_user(username="scientist", password="pw-scientist-123")
    credential, secret = credential_create(user, "tests")
    config = tmp_path / "clearml.conf"
    config.write_text("")
    env = {**os.environ, "CLEARML_API_HOST": f"{live_server.url}/clearml",
           "CLEARML_WEB_HOST": live_server.url, "CLEARML_FILES_HOST": f"{live_server.url}/clearml/files",
           "CLEARML_API_ACCESS_KEY": credential.access_key, "CLEARML_API_SECRET_KEY": secret,
           "CLEARML_CONFIG_FILE": str(config), "CLEARML_CACHE_DIR": str(tmp_path / "cache"),
           "CLEARML_SUPPRESS_UPDATE_MESSAGE": "1", "CLEARML_LOG_LEVEL": "WARNING"}
    for name in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)

    def run(code: str, config_text: str = "", **extra_env: str) -> dict:
        config.write_text(config_text)
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**env, **extra_env},
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        assert out.returncode == 0 and lines, f"client failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return json.loads(lines[-1])

    run.user, run.credential, run.secret = user, credential, secret
    return run
