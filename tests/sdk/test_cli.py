import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from hyperdatasets.sdk import DatasetVersion


@pytest.fixture
def run(api, sdk_user):
    from rest_framework.authtoken.models import Token

    env = {**os.environ, "HYPERDATASETS_API_URL": api.url,
           "HYPERDATASETS_API_TOKEN": Token.objects.get(user=sdk_user).key}

    def run_cli(*args):
        return subprocess.run([sys.executable, "-m", "hyperdatasets.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)
    return run_cli


def test_cli_end_to_end(run, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    assert run("create", "cli-ds", "--project", "cli", "--tag", "a").returncode == 0
    assert "cli-ds" in run("datasets", "--project", "cli").stdout
    images = tmp_path / "images" / "cam1"
    images.mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (4 + i, 3)).save(images / f"{i}.png")
    added = run("add-frames", "cli-ds", "--project", "cli", "--folder", str(tmp_path / "images"),
                "--upload-destination", "raw", "--progress")
    assert added.returncode == 0, added.stderr
    assert "added 3 frames" in added.stdout
    snap = run("snapshot", "cli-ds", "--project", "cli", "--publish-name", "v1")
    assert snap.returncode == 0 and "current version: Current" in snap.stdout
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"id": "j1", "sources": [{"uri": "s3://b/j1.jpg"}]}) + "\n"
                     + json.dumps({"id": "bad", "sources": []}) + "\n")
    partial = run("add-frames", "cli-ds", "--project", "cli", "--jsonl", str(jsonl))
    assert partial.returncode == 1 and "failed: bad sources" in partial.stderr
    exported = run("export", "cli-ds", "--project", "cli")
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == 4 and {f["id"] for f in lines} >= {"j1"}
    assert any(f["sources"][0]["uri"].endswith("/sources/raw/cam1/0.png") for f in lines)
    versions = run("versions", "cli-ds", "--project", "cli", "--published")
    assert "v1" in versions.stdout and "Current" not in versions.stdout
    child = run("child", "cli-ds", "--project", "cli", "--name", "branch", "--parent", "v1")
    assert child.returncode == 0
    assert run("publish", "cli-ds", "--project", "cli", "--version", "branch").returncode == 0
    assert DatasetVersion.get_version(dataset_name="cli-ds", version_name="branch").is_published
    refused = run("delete", "cli-ds", "--project", "cli", "--all-versions")
    assert refused.returncode == 1 and "force" in refused.stderr
    done = run("delete", "cli-ds", "--project", "cli", "--all-versions", "--force", "--progress")
    assert done.returncode == 0
    missing = run("versions", "cli-ds", "--project", "cli")
    assert missing.returncode == 3 and "does not exist" in missing.stderr


def test_cli_help_and_usage_errors(run):
    assert run("--help").returncode == 0
    for command in ("datasets", "versions", "create", "snapshot", "child", "publish", "add-frames", "export",
                    "delete"):
        result = run(command, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout
    assert run("child", "x").returncode == 2
    assert run("bogus").returncode == 2
