"""ClearML's client reads datasets made through this project's own services: HyperDatasetManagement's
exists/get/list find them by name, id and version, under the user's project rights, with the head version
and statuses it expects; another user's dataset is not found."""

import pytest

from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_rule_set
from hyperdatasets.services.snapshots import snapshot_create
from tests.factories import frame

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_client_finds_and_lists_this_servers_datasets(clearml, django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    cats = dataset_create(dataset_name="cats-and-dogs", dataset_project="HD Study", user=owner, tags=["pets"])
    project_rule_set(cats.project, role=AccessRole.READ, user=clearml.user)
    assert frames_upsert(version_head(cats), [frame(f"f{i}", labels=[["cat"]]) for i in range(3)]).failures == []
    snapshot_create(cats, publish_name="v1")
    head = version_head(cats)
    dataset_create(dataset_name="secret", dataset_project="Hidden", user=owner)
    result = clearml("""
        import json
        from clearml.hyperdatasets import HyperDatasetManagement as M
        from clearml.backend_api.session import Session
        from clearml.backend_api.services import datasets
        v1 = M.get(dataset_name="cats-and-dogs", version_name="v1")
        current = M.get(dataset_name="cats-and-dogs", project_name="HD Study")
        session = Session()
        by_id = session.send(datasets.GetByIdRequest(dataset=v1._dataset_id)).response.dataset
        versions = session.send(datasets.GetVersionsRequest(dataset=v1._dataset_id, only_published=False))
        published = session.send(datasets.GetVersionsRequest(dataset=v1._dataset_id))
        value = lambda status: getattr(status, "value", status)
        print(json.dumps({
            "exists": M.exists(dataset_name="cats-and-dogs"), "v1_exists": M.exists(dataset_name="cats-and-dogs",
                                                                                   version_name="v1"),
            "missing_version": M.exists(dataset_name="cats-and-dogs", version_name="v9"),
            "secret": M.exists(dataset_name="secret"), "v1": [v1._dataset_id, v1._version_id],
            "current": current._version_id, "head": by_id.head_version.id,
            "head_status": value(by_id.head_version.status),
            "tags": by_id.tags, "count": by_id.version_count,
            "statuses": [(v.name, value(v.status)) for v in versions.response.versions],
            "published": [v.name for v in published.response.versions],
            "listed": sorted(d["name"] for d in M.list()),
            "partial": [d["name"] for d in M.list(partial_name="cats")],
        }))
    """)
    v1 = cats.versions.get(name="v1")
    assert result["exists"] and result["v1_exists"] and not result["missing_version"] and not result["secret"]
    assert result["v1"] == [cats.pk.hex, v1.pk.hex]
    assert result["current"] == result["head"] == head.pk.hex and result["head_status"] == "draft"
    assert result["tags"] == ["pets"] and result["count"] == 2
    assert [tuple(s) for s in result["statuses"]] == [("v1", "published"), (head.name, "draft")]
    assert result["published"] == ["v1"]
    assert result["listed"] == ["cats-and-dogs"] and result["partial"] == ["cats-and-dogs"]
