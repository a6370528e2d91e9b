import pytest
from django.core.management import call_command
from PIL import Image

from hyperdatasets.examples import PROJECT, STEREO, STREET
from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.selectors.frame_pages import frames_page
from hyperdatasets.selectors.frames import version_label_stats
from hyperdatasets.selectors.versions import version_head, version_parents

pytestmark = pytest.mark.django_db


def test_load_examples_builds_real_datasets_and_is_idempotent(tmp_path, settings, superuser):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_examples")
    call_command("load_examples")
    datasets = Dataset.objects.filter(project__name=PROJECT, is_example=True)
    assert sorted(d.name for d in datasets) == sorted([STEREO, STREET])
    street = datasets.get(name=STREET)
    versions = {v.name: v for v in DatasetVersion.objects.filter(dataset=street)}
    assert set(versions) == {"v1", "v2", "Current", "relabel-signs"}
    assert [p.name for p in version_parents(versions["relabel-signs"])] == ["v1"]
    assert versions["v1"].is_published and versions["relabel-signs"].is_published
    head = version_head(street)
    assert head.name == "Current" and head.frame_count == 12
    shapes = {roi["meta"].get("_type") for frame in frames_page(head, limit=20).frames for roi in frame["rois"]}
    assert shapes == {"b2d", "k2d", "elp", "p2d", "mask", None}
    assert versions["v1"].metadata["mask_labels"]["_all_"][2] == {"value": [2, 2, 2], "labels": ["car"]}
    assert version_label_stats(versions["relabel-signs"])["labels"]["traffic sign"] == 4
    frame = frames_page(versions["v1"], limit=1).frames[0]
    image = Image.open(frame["sources"][0]["uri"][len("file://"):])
    mask = Image.open(frame["sources"][0]["masks"][0]["uri"][len("file://"):]).convert("RGB")
    assert image.size == (320, 240)
    x, y = frame["rois"][0]["poly"][:2]
    assert mask.getpixel((int(x) + 5, int(y) + 5)) == (2, 2, 2)  # the box's car is car in the mask
    stereo = version_head(datasets.get(name=STEREO))
    group = frames_page(stereo, limit=1).frames[0]
    assert [s["id"] for s in group["sources"]] == ["left", "right"]
    assert DatasetVersion.objects.filter(dataset__project__name=PROJECT).count() == 6


def test_example_datasets_show_their_banner(client, tmp_path, settings, superuser):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_examples")
    client.force_login(superuser)
    page = client.get("/").content.decode()
    assert page.count('<span class="banner">Example</span>') == 2
    assert STREET in page and STEREO in page
