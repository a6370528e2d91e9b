"""The dataview pages in Chromium: a project's Dataviews page, a new dataview built in the editor (inputs, rules
with weights and queries, mapping, enumeration, iteration) with live per-rule counts, a refusal naming the
field, the preview grid, an export run by a real worker with its progress bar and download, publish making the
editor read-only, and archive/restore in the table."""

import time

import orjson
from django.conf import settings

from dataviews.models import Dataview
from dataviews.selectors import iteration_batch
from dataviews.services import iteration_start
from hyperdatasets.examples import PROJECT, STREET
from hyperdatasets.models import Dataset
from tests.browser.conftest import screenshot


def _wait_saved(page, outcome="Saved"):
    """Until the editor has saved the last change and shown its counts and preview."""
    page.wait_for_function("() => document.getElementById('dataview-editor').dataset.busy === 'false'", timeout=15000)
    assert page.inner_text("[data-testid=save-status]") == outcome


def _rule_counts(page):
    return [int(t) for t in page.locator("[data-testid=rule] [data-testid=rule-count]").all_inner_texts()]


def test_build_count_preview_export_and_publish_a_dataview(page, live_server, start_worker, tmp_path):
    street = Dataset.objects.get(name=STREET, project__name=PROJECT)
    v2 = street.versions.get(name="v2")
    start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT))

    page.goto(f"{live_server.url}/projects/")
    page.locator(f"[data-testid=project-row][data-name='{PROJECT}'] [data-testid=project-dataviews]").click()
    page.wait_for_url(f"{live_server.url}/dataviews/?project=*")
    assert "No dataviews match" in page.inner_text("main")
    form = page.locator("[data-testid=dataview-new]")
    assert form.locator("input[name=project]").input_value() == PROJECT
    form.locator("input[name=name]").fill("night and day")
    form.locator("button").click()
    page.wait_for_url(f"{live_server.url}/dataviews/*/")
    editor = page.locator("[data-testid=dataview-editor]")

    # An input version: every frame of v2 (12), by one implicit rule.
    editor.locator("[data-add=input]").click()
    row = editor.locator("[data-testid=input-row]")
    row.locator("[data-field=dataset]").select_option(str(street.pk))
    row.locator("[data-field=version]").select_option(str(v2.pk))
    _wait_saved(page)
    assert page.inner_text("[data-testid=total-count]") == "12"

    # Two rules: clear weather (weight 1) and cloudy (weight 2); the counts follow each change.
    for query, weight in (("meta.weather:clear", "1"), ("meta.weather:cloudy", "2")):
        editor.locator("[data-add=rule]").click()
        rule = editor.locator("[data-testid=rule]").last
        rule.locator("[data-field=scope_dataset]").select_option(str(street.pk))
        rule.locator("[data-field=frame_query]").fill(query)
        rule.locator("[data-field=weight]").fill(weight)
        rule.locator("[data-field=weight]").dispatch_event("change")
        _wait_saved(page)
    assert _rule_counts(page) == [6, 6] and page.inner_text("[data-testid=total-count]") == "12"

    # A query that does not parse is refused naming the rule's field; nothing is stored.
    first = editor.locator("[data-testid=rule]").first
    first.locator("[data-field=frame_query]").fill("meta.weather:(")
    _wait_saved(page, "Not saved")
    assert "filters[0].frame_query" in page.inner_text("[data-testid=editor-error]")
    assert Dataview.objects.get(name="night and day").filters[0]["frame_query"] == "meta.weather:clear"
    first.locator("[data-field=frame_query]").fill("meta.weather:clear AND meta.frame:[0 TO 5]")
    _wait_saved(page)
    assert _rule_counts(page) == [3, 6]
    assert page.locator("[data-testid=editor-error]").is_hidden()

    # A ROI label rule, a mapping rule and an enumeration.
    first.locator("text=+ ROI label rule").click()
    first.locator("[data-testid=label-rule] [data-field=label]").fill("car")
    editor.locator("[data-add=mapping]").click()
    mapping = editor.locator("[data-testid=mapping-row]")
    mapping.locator("[data-field=from_labels]").fill("car")
    mapping.locator("[data-field=to_label]").fill("vehicle")
    editor.locator("[data-add=enumeration]").click()
    enumeration = editor.locator("[data-testid=enumeration-row]")
    enumeration.locator("[data-field=label]").fill("vehicle")
    enumeration.locator("[data-field=number]").fill("7")
    enumeration.locator("[data-field=number]").dispatch_event("change")
    _wait_saved(page)
    stored = Dataview.objects.get(name="night and day")
    assert stored.filters[0]["label_rules"] == [{"label": "car"}]
    assert stored.mapping == [{"source": {"dataset": "*", "version": "*", "labels": ["car"]}, "target": "vehicle"}]
    assert stored.labels_enumeration == {"vehicle": 7}

    # The preview grid: the first frames in sequential order, as a run of the stored dataview reads them.
    expected = iteration_batch(iteration_start(stored, iteration={"order": "sequential", "limit": 12}),
                               batch_size=12).frames
    thumbs = page.locator("[data-testid=preview-grid] [data-testid=frame-thumb]")
    assert [t.get_attribute("data-frame-id") for t in thumbs.all()] == [f["id"] for f in expected]
    assert page.locator("[data-testid=preview-grid] img").count() == len(expected)
    screenshot(page, "dataview-editor")

    # The page, reloaded, draws the stored recipe.
    page.reload()
    _wait_saved(page)
    assert _rule_counts(page) == [3, 6]
    assert editor.locator("[data-testid=rule]").first.locator("[data-field=frame_query]").input_value() \
        == "meta.weather:clear AND meta.frame:[0 TO 5]"
    assert editor.locator("[data-testid=enumeration-row] [data-field=number]").input_value() == "7"

    # Export: a worker writes the file; the bar fills; the download holds the frames of a run.
    exports = page.locator("[data-testid=exports]")
    exports.locator("input[name=projection]").fill("id, meta.weather, rois")
    exports.locator("button").click()
    row = exports.locator("[data-testid=export-row]").first
    seen = set()
    deadline = time.monotonic() + 90
    while row.get_attribute("data-status") not in ("succeeded", "failed") and time.monotonic() < deadline:
        seen.add(row.get_attribute("data-status"))
        time.sleep(0.05)
    assert row.get_attribute("data-status") == "succeeded", row.inner_text()
    assert row.locator("progress").get_attribute("value") == row.locator("progress").get_attribute("max")
    screenshot(page, "dataview-export")
    with page.expect_download() as download_info:
        row.locator("[data-testid=export-download]").click()
    path = tmp_path / "export.jsonl"
    download_info.value.save_as(path)
    run = iteration_start(Dataview.objects.get(name="night and day"))
    frames = iteration_batch(run, batch_size=100, projection=["id", "meta.weather", "rois"]).frames
    assert [orjson.loads(line) for line in path.read_bytes().splitlines()] == frames
    assert frames and all(roi["label"] == ["vehicle"] and roi["label_num"] == 7
                          for f in frames for roi in f["rois"])

    # Publish: the editor turns read-only.
    page.click("[data-testid=publish]")
    page.wait_for_url(f"{live_server.url}/dataviews/*/")
    assert page.inner_text("[data-testid=dataview-status]") == "Published"
    assert page.locator("[data-testid=read-only]").is_visible()
    assert editor.locator("[data-field=frame_query]").first.is_disabled()

    # The table: archive moves it to the archived list; restore brings it back.
    page.goto(f"{live_server.url}/dataviews/")
    assert page.locator("[data-testid=dataview-row]").count() == 1
    page.click("[data-testid=dataview-row] [data-testid=archive]")
    page.goto(f"{live_server.url}/dataviews/")
    assert page.locator("[data-testid=dataview-row]").count() == 0
    page.goto(f"{live_server.url}/dataviews/?archived=1")
    assert page.locator("[data-testid=dataview-row]").count() == 1
    screenshot(page, "dataviews-archived")
    page.click("[data-testid=dataview-row] [data-testid=restore]")
    assert Dataview.objects.get(name="night and day").archived is False
    assert page.js_errors == []
