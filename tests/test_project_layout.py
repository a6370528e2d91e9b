import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_import_needs_no_django_settings():
    result = _run("import hyperdatasets, hyperdatasets.exceptions, sys; "
                  "print(hyperdatasets.__version__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.1.0"


def test_celery_app_is_named_hyperdatasets():
    result = _run("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='hyperdatasets.settings'; "
                  "from celery.app.utils import find_app; print(find_app('hyperdatasets').main)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hyperdatasets"


@pytest.mark.django_db
def test_models_importable_from_package():
    from hyperdatasets.models import Dataset, DatasetVersion, Project

    assert {Dataset._meta.model_name, DatasetVersion._meta.model_name, Project._meta.model_name} == {
        "dataset", "datasetversion", "project"}


def test_public_ids_are_uuids():
    from hyperdatasets.models import Dataset, DatasetVersion, Project

    for model in (Dataset, DatasetVersion, Project):
        assert model._meta.pk.get_internal_type() == "UUIDField"
