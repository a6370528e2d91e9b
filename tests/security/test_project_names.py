"""Project names are unique on the server; asking for one must not tell whether an invisible project has it."""

import pytest

from hyperdatasets.models import Project
from hyperdatasets.services.projects import project_create
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_a_taken_name_is_refused_without_confirming_the_project(clients, people):
    project_create(name="secret-plans", user=people["owner"])  # the outsider sees no rule on it
    hidden = clients["outsider"].post("/api/projects/", {"name": "secret-plans"}, format="json")
    seen = clients["admin"].post("/api/projects/", {"name": "vision"}, format="json")
    for response in (hidden, seen):
        assert response.status_code == 409
        error = error_of(response)
        assert "exist" not in error["message"] and "is not available" in error["message"]
    # The answer for a hidden project reads exactly like the answer for one the caller can see.
    assert error_of(hidden)["message"].replace("secret-plans", "N") == error_of(seen)["message"].replace("vision", "N")
    assert error_of(hidden)["code"] == error_of(seen)["code"]
    assert Project.objects.filter(name="secret-plans").count() == 1
    fresh = clients["admin"].post("/api/projects/", {"name": "mine"}, format="json")
    assert fresh.status_code == 201
    # Creating a dataset in the hidden project answers as if it did not exist.
    into = clients["outsider"].post("/api/datasets/", {"dataset_name": "x", "dataset_project": "secret-plans"},
                                    format="json")
    assert into.status_code == 404 and error_of(into)["code"] == "not_found"
