import pytest
from django.urls import reverse

from hyperdatasets.models import Dataset, DatasetVersion, Project, VersionStatus
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.tags import dataset_tags_get
from hyperdatasets.services.versions import version_create, version_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_changelists_render_with_search_and_filters(admin_client):
    dataset_create(dataset_name="cars", dataset_project="vision", tags=["t1"])
    for model, query in [("project", "?q=vis"), ("dataset", "?q=cars&is_example__exact=0"),
                         ("datasetversion", "?status__exact=draft&q=Current")]:
        response = admin_client.get(reverse(f"admin:hyperdatasets_{model}_changelist") + query)
        assert response.status_code == 200
    page = admin_client.get(reverse("admin:hyperdatasets_dataset_changelist") + "?q=cars").content.decode()
    assert "cars" in page


def test_add_dataset_goes_through_service(admin_client, superuser):
    response = admin_client.post(reverse("admin:hyperdatasets_dataset_add"), {
        "name": "from-admin", "project": "", "description": "d", "metadata": "{}", "tags_text": "a, b, a",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get(name="from-admin")
    assert version_head(dataset).name == "Current"
    assert dataset_tags_get(dataset) == ["a", "b"]
    assert dataset.created_by == superuser


def test_add_dataset_refusal_is_a_form_error(admin_client):
    dataset_create(dataset_name="taken")
    response = admin_client.post(reverse("admin:hyperdatasets_dataset_add"), {
        "name": "taken", "project": "", "description": "", "metadata": "{}", "tags_text": "",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Dataset.objects.filter(name="taken").count() == 1


def test_dataset_page_shows_versions_inline(admin_client):
    dataset = dataset_create(dataset_name="cars")
    snapshot_create(dataset, publish_name="snap-1")
    page = admin_client.get(reverse("admin:hyperdatasets_dataset_change", args=[dataset.pk])).content.decode()
    assert "snap-1" in page and "Current" in page


def test_published_version_is_read_only_in_admin(admin_client):
    dataset = dataset_create(dataset_name="cars")
    published = version_publish(version_head(dataset))
    url = reverse("admin:hyperdatasets_datasetversion_change", args=[published.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()  # view-only: no editable inputs
    response = admin_client.post(url, {"name": "changed", "comment": "", "metadata": "{}"})
    assert response.status_code == 403
    assert DatasetVersion.objects.get(pk=published.pk).name == "Current"
    delete = admin_client.post(reverse("admin:hyperdatasets_datasetversion_delete", args=[published.pk]),
                               {"post": "yes"})
    assert delete.status_code == 403
    assert DatasetVersion.objects.filter(pk=published.pk).exists()


def test_add_version_with_draft_parent_is_refused(admin_client):
    dataset = dataset_create(dataset_name="cars")
    draft = version_head(dataset)
    response = admin_client.post(reverse("admin:hyperdatasets_datasetversion_add"), {
        "dataset": dataset.pk, "name": "child", "parents": [draft.pk], "comment": "", "metadata": "{}",
    })
    assert response.status_code == 200  # the form's parent queryset offers Published versions only
    assert not DatasetVersion.objects.filter(name="child").exists()


def test_add_child_version_and_publish_action(admin_client):
    dataset = dataset_create(dataset_name="cars")
    parent = version_publish(version_head(dataset))
    response = admin_client.post(reverse("admin:hyperdatasets_datasetversion_add"), {
        "dataset": dataset.pk, "name": "child", "parents": [parent.pk], "comment": "c", "metadata": "{}",
    })
    assert response.status_code == 302
    child = DatasetVersion.objects.get(dataset=dataset, name="child")
    assert child.depth == 1
    admin_client.post(reverse("admin:hyperdatasets_datasetversion_changelist"), {
        "action": "publish_selected", "_selected_action": [child.pk],
    })
    assert DatasetVersion.objects.get(pk=child.pk).status == VersionStatus.PUBLISHED


def test_edit_draft_version_through_service(admin_client):
    dataset = dataset_create(dataset_name="cars")
    other = version_create(dataset, version_name="other")
    url = reverse("admin:hyperdatasets_datasetversion_change", args=[other.pk])
    clash = admin_client.post(url, {"name": "Current", "comment": "", "metadata": "{}"})
    assert clash.status_code == 200 and "already exists" in clash.content.decode()
    ok = admin_client.post(url, {"name": "renamed", "comment": "hello", "metadata": '{"k": 1}'})
    assert ok.status_code == 302
    other.refresh_from_db()
    assert (other.name, other.comment, other.metadata) == ("renamed", "hello", {"k": 1})


def test_delete_dataset_from_admin(admin_client):
    dataset = dataset_create(dataset_name="cars")
    snapshot_create(dataset)
    response = admin_client.post(reverse("admin:hyperdatasets_dataset_delete", args=[dataset.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_project_admin_add_and_rename(admin_client):
    rules = {"rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"}
    admin_client.post(reverse("admin:hyperdatasets_project_add"), {"name": "p1", "description": "", **rules})
    project = Project.objects.get(name="p1")
    Project.objects.create(name="p2")
    clash = admin_client.post(reverse("admin:hyperdatasets_project_change", args=[project.pk]),
                              {"name": "p2", "description": "", **rules})
    assert clash.status_code == 200 and "is not available" in clash.content.decode()


def test_project_admin_edits_access_rules_through_services(admin_client, superuser, django_user_model):
    from hyperdatasets.models import ProjectAccessRule
    from hyperdatasets.services.projects import project_create

    reader = django_user_model.objects.create_user(username="reader", password="x")
    project = project_create(name="p", user=superuser)
    url = reverse("admin:hyperdatasets_project_change", args=[project.pk])
    own = ProjectAccessRule.objects.get(project=project)
    response = admin_client.post(url, {
        "name": "p", "description": "",
        "rules-TOTAL_FORMS": "2", "rules-INITIAL_FORMS": "1", "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-id": own.pk, "rules-0-project": project.pk, "rules-0-user": superuser.pk, "rules-0-role": "admin",
        "rules-1-project": project.pk, "rules-1-user": reader.pk, "rules-1-role": "read",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(ProjectAccessRule.objects.filter(project=project).values_list("user__username", "role")) == {
        ("root", "admin"), ("reader", "read")}


def test_staff_without_rules_sees_no_private_datasets_in_admin(client, django_user_model):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="hyperdatasets"))
    owner = django_user_model.objects.create_user(username="owner", password="x")
    private = dataset_create(dataset_name="private-ds", dataset_project="secret", user=owner)
    dataset_create(dataset_name="open-ds", user=owner)
    client.force_login(staff)
    page = client.get(reverse("admin:hyperdatasets_dataset_changelist")).content.decode()
    assert "open-ds" in page and "private-ds" not in page
    assert client.get(reverse("admin:hyperdatasets_dataset_change", args=[private.pk])).status_code == 302


def test_frame_edits_are_listed_read_only_and_scoped(client, superuser, django_user_model):
    from annotations.models import FrameEdit
    from annotations.services import frame_save
    from hyperdatasets.models import AccessRole
    from hyperdatasets.services.frames import frames_upsert
    from hyperdatasets.services.projects import project_create, project_rule_set
    from tests.factories import frame

    other = django_user_model.objects.create_user(username="other", password="pw-other-123", is_staff=True)
    view = django_user_model._meta.apps.get_model("auth", "Permission").objects.get(codename="view_frameedit")
    other.user_permissions.add(view)
    project_rule_set(project_create(name="elsewhere", user=other), role=AccessRole.READ, user=other)
    dataset = dataset_create(dataset_name="cars", dataset_project="vision", user=superuser)
    head = version_head(dataset)
    frames_upsert(head, [frame("frame-scoped-7")])
    frame_save(head, "frame-scoped-7", frame("frame-scoped-7", labels=[["car"]]), if_match=None, user=superuser)
    edit = FrameEdit.objects.get()
    client.force_login(superuser)
    listing = client.get(reverse("admin:annotations_frameedit_changelist")).content.decode()
    assert "frame-scoped-7" in listing and "Add frame edit" not in listing
    page = client.get(reverse("admin:annotations_frameedit_change", args=[edit.pk]))
    assert page.status_code == 200 and 'name="frame_id"' not in page.content.decode()
    client.force_login(other)
    assert "frame-scoped-7" not in client.get(reverse("admin:annotations_frameedit_changelist")).content.decode()
    assert client.get(reverse("admin:annotations_frameedit_change", args=[edit.pk])).status_code == 302
