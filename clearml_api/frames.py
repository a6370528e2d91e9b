"""Frame documents between ClearML's wire layout and this project's.

The two layouts share their fields (``id``, ``context_id``, ``timestamp``, ``meta``, ``meta_blob``, ``blob``,
``sources`` with previews and masks, ``rois`` with ``label``, ``poly``, ``confidence``, ``sources``, ``mask``
and ``meta``), so a frame the client writes is stored as it is. What differs:

- on the way in, the fields a server adds when it returns a frame (``dataset``, ``saved``/``updated`` and
  their versions, ``rule_name``, ``labels_size``, ``label_rule_counts``, ``_score``; a ROI's ``label_num`` and
  ``area``) are dropped, so a frame read from the server can be written back;
- on the way out, ids are ClearML's 32 hex digits, ``updated``/``updated_in_version`` (this server keeps one
  write time per frame row) equal ``saved``/``saved_in_version``, and ``rule_index`` becomes ``rule_name``.

Fields this server does not keep (a video frame's ``augmentation``, ``video_gop``, ``is_key_frame``,
``key_frame``) are refused by the frame rules like any unknown field, with the frame's error, rather than
dropped.
"""

from __future__ import annotations

from typing import Any

from clearml_api.ids import wire_id

SERVER_FIELDS = frozenset({"dataset", "saved", "updated", "saved_in_version", "updated_in_version", "rule_name",
                           "rule_index", "labels_size", "label_rule_counts", "new_ver", "_score"})
ROI_SERVER_FIELDS = frozenset({"label_num", "area"})


def frame_in(frame: Any) -> Any:
    """A frame as ClearML's client sends it, as this project's frame rules take it (anything that is not an
    object is passed on, for those rules to refuse with their message)."""
    if not isinstance(frame, dict):
        return frame
    document = {key: value for key, value in frame.items() if key not in SERVER_FIELDS}
    rois = document.get("rois")
    if isinstance(rois, list):
        document["rois"] = [{k: v for k, v in roi.items() if k not in ROI_SERVER_FIELDS}
                            if isinstance(roi, dict) else roi for roi in rois]
    return document


def frame_out(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame as a dataview yields it here (``dataviews.output``), in ClearML's layout."""
    taken_from = frame.get("dataset")
    if isinstance(taken_from, dict):
        frame["dataset"] = {key: wire_id(value) for key, value in taken_from.items()}
    saved_in = frame.get("saved_in_version")
    if saved_in is not None:
        frame["saved_in_version"] = frame["updated_in_version"] = wire_id(saved_in)
    if "saved" in frame:
        frame["updated"] = frame["saved"]
    rule = frame.pop("rule_index", None)
    if rule is not None:
        frame["rule_name"] = f"rule_{rule}"
    return frame
