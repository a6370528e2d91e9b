"""COCO through this project's SDK and CLI, against the live server and a real Celery worker: import waits
for the job and raises the server's message when a file is bad; export unpacks into a folder that
pycocotools reads, and warns about what COCO cannot carry."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from rest_framework.authtoken.models import Token

from hyperdatasets import sdk
from tests.deletion.conftest import start_worker  # noqa: F401
from tests.formats.test_coco import PREFIX, coco_file


def test_import_and_export_annotations_with_the_sdk(api, start_worker, tmp_path):  # noqa: F811
    start_worker()
    version = sdk.DatasetVersion.create_new_dataset(dataset_name="coco-sdk", dataset_project="formats")
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco_file()))
    job = version.import_annotations(source, format="coco", images_prefix=PREFIX, show_progress=True)
    assert job.status == "succeeded" and (job.done, job.annotations) == (6, 18)
    assert version.get_frames_count() == 6

    documents = {doc["id"]: doc for doc in version.iterate_frame_documents()}
    assert documents["00000.jpg"]["sources"][0]["uri"] == PREFIX + "00000.jpg"
    assert [roi["meta"]["_type"] for roi in documents["00000.jpg"]["rois"]] == ["b2d", "b2d", "p2d", "b2d", "k2d"]
    version.add_frames([{"id": "tagged", "sources": [{"uri": "s3://b/t.jpg"}], "rois": [{"label": ["day"]}]}])
    with pytest.warns(UserWarning, match="coco cannot carry: 1 frame labels"):
        folder = version.export_annotations(format="coco", destination=tmp_path / "out")
    assert version.last_export_report == {"frame labels": 1}
    loaded = COCO(str(folder / "annotations" / "instances_default.json"))
    assert len(loaded.getImgIds()) == 7 and len(loaded.getAnnIds()) == 18

    broken = tmp_path / "broken.json"
    data = coco_file()
    data["images"][2]["width"] = "wide"
    broken.write_text(json.dumps(data))
    with pytest.raises(sdk.HyperDatasetsError, match=r"broken.json: \$.images\[2\].width: must be an integer"):
        version.import_annotations(broken, images_prefix=PREFIX)
    with pytest.raises(sdk.HyperDatasetsError, match="images_prefix: give the URI prefix"):
        version.import_annotations(source)  # a JSON file has no images to upload


def test_import_and_export_annotations_with_the_cli(api, sdk_user, start_worker, tmp_path):  # noqa: F811
    start_worker()
    sdk.DatasetVersion.create_new_dataset(dataset_name="coco-cli", dataset_project="formats")
    env = {**os.environ, "HYPERDATASETS_API_URL": api.url,
           "HYPERDATASETS_API_TOKEN": Token.objects.get(user=sdk_user).key}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "hyperdatasets.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco_file(3)))
    imported = cli("import", "coco-cli", "--project", "formats", "--file", str(source), "--images-prefix", PREFIX)
    assert imported.returncode == 0, imported.stderr
    assert "imported 3 images and 9 annotations" in imported.stdout
    exported = cli("export", "coco-cli", "--project", "formats", "--format", "coco", "--destination",
                   str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    assert COCO(str(tmp_path / "out" / "annotations" / "instances_default.json")).getImgIds() == [10, 11, 12]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = cli("import", "coco-cli", "--project", "formats", "--file", str(bad), "--images-prefix", PREFIX)
    assert refused.returncode != 0 and "bad.json: line 1" in refused.stderr


def test_images_of_a_dataset_folder_are_uploaded(api, start_worker, tmp_path):  # noqa: F811
    from tests.formats.test_yolo import yolo_archive

    start_worker()
    version = sdk.DatasetVersion.create_new_dataset(dataset_name="yolo-upload", dataset_project="formats")
    folder = tmp_path / "dataset"
    with zipfile.ZipFile(io.BytesIO(yolo_archive())) as archive:
        archive.extractall(folder)
    job = version.import_annotations(folder, format="yolo")
    assert job.status == "succeeded" and job.done == 3
    documents = {doc["id"]: doc for doc in version.iterate_frame_documents()}
    source = documents["train/a.jpg"]["sources"][0]
    assert source["uri"].startswith("file://") and "/sources/imports/train/a.jpg" in source["uri"]
    assert (source["width"], source["height"]) == (640, 480)
    stored = Path(source["uri"][len("file://"):]).read_bytes()
    assert stored == (folder / "images" / "train" / "a.jpg").read_bytes()

    # Exported with its images, the folder is a whole YOLO dataset again, which imports as it was.
    out = version.export_annotations(format="yolo", destination=tmp_path / "out", include_images=True)
    assert version.last_export_report == {}
    for name in ("train/a.jpg", "val/b.png", "train/c.jpg"):
        assert (out / "images" / name).read_bytes() == (folder / "images" / name).read_bytes()
    again = sdk.DatasetVersion.create_new_dataset(dataset_name="yolo-again", dataset_project="formats")
    assert again.import_annotations(out, format="yolo").annotations == 3
    prefixed = sdk.DatasetVersion.create_new_dataset(dataset_name="yolo-prefixed", dataset_project="formats")
    prefixed.import_annotations(folder, format="yolo", images_prefix="s3://bucket/yolo/images/")
    with pytest.warns(UserWarning, match="3 images not copied"):
        prefixed.export_annotations(format="yolo", destination=tmp_path / "prefixed", include_images=True)
