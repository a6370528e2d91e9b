"""A ClearML user's script, run by ``test_end_to_end`` in a fresh interpreter with only the three
environment variables (and an empty clearml.conf) pointing the client here. It prints one JSON line: what
it sent, what it read back, and what each step answered, for the test to check."""

import json
import os

from clearml.hyperdatasets import DataEntryImage, DataSubEntryImage, DataView, HyperDataset
from clearml.hyperdatasets import HyperDatasetManagement as Management
from PIL import Image

FILES = os.environ["CLEARML_FILES_HOST"]
out: dict = {}


def roi_dict(roi):
    return roi.to_dict() if hasattr(roi, "to_dict") else dict(roi)


def document(entry) -> dict:
    """An entry as the client would write it (``to_api_object``), ROIs as plain dicts."""
    doc = entry.to_api_object()
    doc["rois"] = [roi_dict(roi) for roi in doc.get("rois") or []]
    return doc


def frames_of(view_or_dataset, **kwargs) -> list[dict]:
    return [document(entry) for entry in view_or_dataset.get_iterator(**kwargs)]


# --- a dataset with a version, multi-source image entries, local files uploaded to the files host ---------
hd = HyperDataset(project_name="HD Study", dataset_name="cats-and-dogs", version_name="v1",
                  description="study dataset")
entries = []
for i in range(6):
    Image.new("RGB", (8, 6), (40 * i, 10, 200)).save(f"img_{i}.png")
    entry = DataEntryImage(data_entry_id=f"f{i}", metadata={
        "split": "train" if i < 4 else "val", "score": i / 10, "city": "Haifa" if i % 2 == 0 else "Tel Aviv",
        "weather": {"rain": i % 3 == 0, "lux": 100 * i}})
    left = DataSubEntryImage(name="left", source=os.path.abspath(f"img_{i}.png"), width=8, height=6, timestamp=0,
                             context_id=f"ctx-{i}", masks_source=[f"https://masks.example.com/m{i}.png"],
                             metadata={"camera": "left", "exposure": i / 50})
    right = DataSubEntryImage(name="right", source=f"https://images.example.com/right_{i}.jpg", width=640,
                              height=480, timestamp=0, metadata={"camera": "right"})
    left.add_annotation(box2d_xywh=[1, 1, 3, 2], labels=["cat"], confidence=0.9, metadata={"occluded": i == 2},
                        id=f"box-{i}")
    left.add_annotation(poly2d_xy=[[0, 0], [4, 0], [4, 4]], labels=["dog"] if i % 2 else ["cat"],
                        confidence=round(0.3 + 0.1 * i, 2))
    left.add_annotation(ellipse2d_xyrrt=[4, 3, 2, 1, 0.5], labels=["ball"], confidence=0.7)
    left.add_annotation(mask_rgb=[255, 0, 0], labels=["cat"], confidence=0.8)
    right.add_annotation(points2d_xy=[[10, 10], [20, 20]], labels=["dog"], confidence=0.6)
    entry.add_sub_entries([left, right])
    entries.append(entry)
errors = hd.add_data_entries(entries, upload_local_files_destination=f"{FILES}/hyperdatasets")
out["add_errors"] = {kind: {k: str(v) for k, v in found.items()} for kind, found in errors.items()}
out["ids"] = {"dataset": hd.dataset_id, "v1": hd.version_id}
out["sent"] = [document(entry) for entry in entries]
out["v1_read"] = frames_of(hd)

# --- publish, a child that inherits, deletes in the child, a snapshot ---------------------------------------
out["commit"] = str(hd.commit_version(publish=True))
v1_status = Management.get(dataset_name="cats-and-dogs", version_name="v1", project_name="HD Study")
out["v1_id_by_name"] = v1_status.version_id
v2 = HyperDataset(project_name="HD Study", dataset_name="cats-and-dogs", version_name="v2", parent_id=hd.version_id)
out["ids"]["v2"] = v2.version_id
out["v2_inherited"] = sorted(frame["id"] for frame in frames_of(v2))
out["v2_deleted"] = v2.delete_data_entries(["f0", "f1", "no-such-frame"])
out["v2_after_delete"] = sorted(frame["id"] for frame in frames_of(v2))
out["v1_after_child_delete"] = sorted(frame["id"] for frame in frames_of(hd))
refused = hd.add_data_entries([entries[0]])["register"]
out["write_to_published"] = {key: str(value) for key, value in refused.items()}
out["v1_after_write"] = sorted(frame["id"] for frame in frames_of(hd))
snapshot = v2.create_snapshot()
out["snapshot"] = {"name": snapshot._version_name, "id": snapshot.version_id, "draft_id": v2.version_id,
                   "draft_name": v2._version_name,
                   "frames": sorted(frame["id"] for frame in frames_of(snapshot)),
                   "draft_frames": sorted(frame["id"] for frame in frames_of(v2))}

# --- a dataview: label rules with count and confidence ranges, a Lucene frame query, weights, labels, mapping --
view = DataView(name="study-view", project_name="HD Study", iteration_order="random", iteration_random_seed=1234)
view.add_query(dataset_id=hd.dataset_id, version_id=hd.version_id,
               frame_query="meta.split:train AND meta.weather.lux:[100 TO *]", weight=2.0,
               filter_by_roi="label_rules",
               label_rules=[{"label": "cat", "count_range": [2, -1], "conf_range": [0.5, 1.0]}])
view.add_query(dataset_id=hd.dataset_id, version_id=snapshot.version_id,
               frame_query='meta.city:"Tel Aviv"', weight=1.0)
view.set_labels({"cat": 1, "dog": 2, "animal": 3, "ball": 4})
view.add_mapping_rule(from_labels=["dog"], to_label="animal", dataset_id=hd.dataset_id)
out["view_count"] = view.get_count()
out["view_random"] = frames_of(view)
out["view_random_again"] = [frame["id"] for frame in frames_of(view)]
out["view_id"] = view.id
sequential = DataView(name="study-sequential", project_name="HD Study", iteration_order="sequential")
sequential.add_query(dataset_id=hd.dataset_id, version_id=hd.version_id,
                     filter_by_roi="label_rules", label_rules=[{"label": "dog", "count_range": [1, 1]}])
out["sequential"] = frames_of(sequential)
out["sequential_id"] = sequential.id
fetched = DataView.get(dataview_id=view.id)
by_name = DataView.get(dataview_name="study-view")
out["fetched"] = {"id": fetched.id, "name": fetched.name, "by_name": by_name.id, "labels": fetched.get_labels(),
                  "queries": [{"dataset": q.dataset_id, "version": q.version_id, "frame_query": q.frame_query,
                               "weight": q.weight} for q in fetched.get_queries()],
                  "mapping": len(fetched.get_mapping_rules()),
                  "iteration": fetched.get_iteration_parameters(),
                  "count": fetched.get_count()}

# --- management --------------------------------------------------------------------------------------------
out["listed"] = sorted(d["name"] for d in Management.list(project_name="HD Study"))
out["exists"] = [Management.exists(dataset_name="cats-and-dogs"),
                 Management.exists(dataset_name="cats-and-dogs", version_name="v1"),
                 Management.exists(dataset_name="cats-and-dogs", version_name="v9"),
                 Management.exists(dataset_name="no-such-dataset")]
current = Management.get(dataset_name="cats-and-dogs", project_name="HD Study")
out["current"] = current.version_id
print(json.dumps(out))
