"""schemathesis against the OpenAPI schema, in process, with every check it has: no 5xx, every status and
response documented and matching the schema, schema-valid requests accepted and schema-invalid ones refused,
on both databases. The repository's schemathesis.toml holds the per-operation statuses (see there why)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from dataviews.services import dataview_create
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from tests.factories import frame

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_test_connection():
    """As Django's test client does: requests must not close the connection holding the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(django_user_model):
    user = django_user_model.objects.create_superuser(username="fuzz", password="pw-fuzz-123")
    dataset = dataset_create(dataset_name="fuzzed", user=user)
    frames_upsert(version_head(dataset), [frame("a", labels=[["car"]])])
    # A dataview, so that the dataviews list answers one to check against the schema.
    dataview_create(name="fuzzed-view", user=user,
                    versions=[{"dataset_id": str(dataset.pk), "version_name": "Current"}],
                    filters=[{"dataset": str(dataset.pk), "version": "*", "label_rules": [{"label": "car"}]}],
                    labels_enumeration={"car": 1}, output_rois="only_filtered")
    return Token.objects.create(user=user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=int(os.environ.get("CONTRACT_EXAMPLES", "8")), deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_matches_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"})
