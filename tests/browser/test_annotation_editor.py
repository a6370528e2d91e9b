
"""The annotation editor in headless Chromium: draw, label, save, reload and read back through the API; undo and
redo; a stale save refused with nothing lost; Published versions read-only; the mask-value mapping table."""

import re

import pytest
from playwright.sync_api import expect

from hyperdatasets.examples import STEREO, STREET
from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from tests.browser.conftest import CHROMIUM_ARGS, screenshot  # noqa: F401

FRAME = "street-002"


@pytest.fixture
def current(examples):
    return version_head(Dataset.objects.get(name=STREET))


def _open(page, live_server, version, frame_id=FRAME):
    page.goto(f"{live_server.url}/versions/{version.pk}/frames/{frame_id}/")
    page.wait_for_selector("[data-testid=viewer][data-editor=ready]")


def _size(page):
    data = page.evaluate("JSON.parse(document.getElementById('editor-data').textContent)")
    return data["width"], data["height"]


def _at(page, x, y):
    """Screen position of source pixel (x, y)."""
    width, height = _size(page)
    box = page.locator("[data-testid=overlay]").bounding_box()
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def _drag(page, start, end):
    page.mouse.move(*_at(page, *start))
    page.mouse.down()
    page.mouse.move(*_at(page, *end), steps=6)
    page.mouse.up()


def _click(page, x, y):
    page.mouse.click(*_at(page, x, y))


def _label(page, text):
    page.fill("[data-testid=roi-label-input]", text)
    page.press("[data-testid=roi-label-input]", "Enter")


def _rois(page):
    return page.locator("[data-testid=overlay] [data-testid=roi]")


def _api_frame(page, live_server, version, frame_id=FRAME):
    response = page.request.get(f"{live_server.url}/api/versions/{version.pk}/frame/{frame_id}/")
    assert response.ok
    return response.json()


def _save(page):
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=save-status]")).to_have_text(re.compile(r"^Saved"))


def _close(expected, actual, tolerance=3):
    return len(expected) == len(actual) and all(abs(a - b) <= tolerance for a, b in zip(expected, actual, strict=True))


def test_draw_label_save_reload_and_read_back(page, live_server, current):
    _open(page, live_server, current)
    before = _rois(page).count()
    page.click("[data-testid=tool-box]")
    _drag(page, (20, 30), (120, 90))
    _label(page, "truck")
    page.click("[data-testid=tool-polygon]")
    for point in [(150, 40), (220, 50), (200, 110)]:
        _click(page, *point)
    _click(page, 151, 41)  # on the first vertex: closes the polygon
    _label(page, "zone")
    page.fill("[data-testid=roi-confidence]", "0.8")
    page.press("[data-testid=roi-confidence]", "Tab")
    page.fill("[data-testid=roi-meta]", '{"occluded": true}')
    page.click("[data-testid=roi-meta-apply]")
    page.click("[data-testid=tool-keypoints]")
    for point in [(40, 140), (60, 150), (80, 140)]:
        _click(page, *point)
    page.keyboard.press("Enter")
    _label(page, "pose")
    page.click("[data-testid=tool-ellipse]")
    _drag(page, (240, 120), (300, 160))
    _label(page, "wheel")
    page.fill("[data-testid=frame-label-input]", "rainy")
    page.press("[data-testid=frame-label-input]", "Enter")
    assert _rois(page).count() == before + 4
    screenshot(page, "editor-drawn")
    _save(page)

    page.reload()
    page.wait_for_selector("[data-testid=viewer][data-editor=ready]")
    labels = _rois(page).evaluate_all("els => els.map(e => e.dataset.label + ':' + e.dataset.kind)")
    assert {"truck:b2d", "zone:p2d", "pose:k2d", "wheel:elp"} <= set(labels)
    assert "rainy" in page.locator("[data-testid=frame-labels]").inner_text()
    assert page.locator("[data-testid=history-row]").count() == 1
    assert "viewer" in page.locator("[data-testid=history-row]").inner_text()

    stored = _api_frame(page, live_server, current)
    by_label = {tuple(r["label"]): r for r in stored["rois"]}
    truck, zone = by_label[("truck",)], by_label[("zone",)]
    assert truck["meta"]["_type"] == "b2d" and _close([20, 30, 120, 30, 120, 90, 20, 90], truck["poly"])
    assert zone["meta"] == {"occluded": True, "_type": "p2d"} and zone["confidence"] == 0.8
    assert _close([150, 40, 220, 50, 200, 110], zone["poly"])
    assert _close([40, 140, 60, 150, 80, 140], by_label[("pose",)]["poly"])
    assert _close([270, 140, 30, 20, 0], by_label[("wheel",)]["poly"])
    assert by_label[("rainy",)]["poly"] == []
    history = page.request.get(f"{live_server.url}/api/versions/{current.pk}/frame-history/{FRAME}/").json()
    assert history["edits"][0]["user"] == "viewer"
    assert sorted(history["edits"][0]["changes"]["added"]) == sorted(
        r["id"] for r in stored["rois"] if r["label"][0] in ("truck", "zone", "pose", "wheel", "rainy"))
    assert page.js_errors == []


def test_undo_redo_move_resize_and_delete(page, live_server, current):
    _open(page, live_server, current)
    before = _rois(page).count()
    page.fill("[data-testid=default-labels]", "vehicle")
    page.press("[data-testid=default-labels]", "Tab")
    page.click("[data-testid=tool-box]")
    _drag(page, (40, 40), (100, 80))
    assert _rois(page).count() == before + 1
    box = page.locator("[data-testid=roi][data-label=vehicle]")
    assert box.count() == 1  # the default label
    page.click("[data-testid=undo]")
    assert _rois(page).count() == before
    page.click("[data-testid=redo]")
    assert _rois(page).count() == before + 1
    page.locator("h1").click()  # keys go to the page, not to a field
    page.keyboard.press("Control+z")
    assert _rois(page).count() == before
    page.keyboard.press("k")
    assert page.locator("[data-testid=tool-keypoints].active").count() == 1
    page.keyboard.press("b")
    assert page.locator("[data-testid=tool-box].active").count() == 1
    page.keyboard.press("Control+Shift+z")
    assert _rois(page).count() == before + 1

    def box_points():
        return box.locator("polygon").get_attribute("points")

    page.click("[data-testid=tool-select]")
    original = box_points()
    _drag(page, (70, 60), (90, 70))  # move by (20, 10)
    moved = box_points()
    assert moved == "60,50 120,50 120,90 60,90", moved
    page.locator("[data-testid=handle]").nth(2).wait_for()
    _drag(page, (120, 90), (140, 100))  # the bottom-right corner handle
    assert box_points() == "60,50 140,50 140,100 60,100", box_points()
    page.keyboard.press("Control+z")
    assert box_points() == moved
    page.keyboard.press("Control+z")
    assert box_points() == original
    page.keyboard.press("Control+y")
    assert box_points() == moved
    page.keyboard.press("Delete")
    assert _rois(page).count() == before
    page.keyboard.press("Control+z")
    assert _rois(page).count() == before + 1
    assert page.js_errors == []


def test_a_stale_save_is_refused_and_nothing_is_lost(page, chromium, live_server, current, django_user_model):
    django_user_model.objects.create_superuser(username="second", password="pw-second-123")
    other_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    other = other_context.new_page()
    other.goto(live_server.url + "/accounts/login/")
    other.fill("input[name=username]", "second")
    other.fill("input[name=password]", "pw-second-123")
    other.click("[data-testid=signin] button")
    other.wait_for_url(live_server.url + "/")
    _open(page, live_server, current)
    _open(other, live_server, current)  # both loaded the same revision

    other.click("[data-testid=tool-box]")
    _drag(other, (20, 20), (60, 60))
    _label(other, "theirs")
    _save(other)

    page.click("[data-testid=tool-ellipse]")
    _drag(page, (200, 100), (260, 140))
    _label(page, "mine")
    page.click("[data-testid=save]")
    error = page.locator("[data-testid=editor-error]")
    error.wait_for()
    message = page.locator("[data-testid=editor-error-message]").inner_text()
    assert "saved by second at" in message and "not saved" in message
    assert page.locator("[data-testid=save-status]").inner_text() == "Not saved"
    screenshot(page, "editor-stale-save")
    # Nothing lost: their save stands, and my ellipse is still in my editor.
    stored = [r["label"] for r in frames_get(current, [FRAME])[FRAME]["rois"]]
    assert ["theirs"] in stored and ["mine"] not in stored
    assert page.locator("[data-testid=roi][data-label=mine]").count() == 1
    # Saving mine over theirs is an explicit choice, made against the revision now stored.
    page.click("[data-testid=overwrite]")
    expect(page.locator("[data-testid=save-status]")).to_have_text(re.compile(r"^Saved"))
    assert error.is_hidden()
    stored = [r["label"] for r in frames_get(current, [FRAME])[FRAME]["rois"]]
    assert ["mine"] in stored and ["theirs"] not in stored
    users = [e["user"] for e in page.request.get(
        f"{live_server.url}/api/versions/{current.pk}/frame-history/{FRAME}/").json()["edits"]]
    assert users == ["viewer", "second"]
    other_context.close()
    assert page.js_errors == []


def test_published_version_is_read_only(page, live_server, current):
    published = DatasetVersion.objects.get(dataset=current.dataset, name="v1")
    page.goto(f"{live_server.url}/versions/{published.pk}/frames/street-000/")
    badge = page.locator("[data-testid=read-only-badge]")
    assert "Published" in badge.inner_text()
    assert page.locator("[data-testid=history-empty]").count() == 1  # the history is shown read-only too
    for testid in ("tool-box", "tool-polygon", "save", "undo", "inspector", "mask-mapping"):
        assert page.locator(f"[data-testid={testid}]").count() == 0, testid
    before = frames_get(published, ["street-000"])["street-000"]
    shapes = page.locator("[data-testid=roi]").count()
    page.mouse.move(*_at(page, 20, 20))
    page.mouse.down()
    page.mouse.move(*_at(page, 80, 80), steps=4)
    page.mouse.up()
    page.keyboard.press("b")
    assert page.locator("[data-testid=roi]").count() == shapes
    page.keyboard.press("+")
    assert page.locator("[data-testid=zoom-level]").inner_text() == "125%"
    response = page.request.put(
        f"{live_server.url}/api/versions/{published.pk}/frame/street-000/",
        data={**before, "rois": []}, headers={"X-CSRFToken": _csrf(page)})
    assert response.status == 409 and "published" in response.json()["error"]["message"].lower()
    assert frames_get(published, ["street-000"])["street-000"] == before
    screenshot(page, "editor-published-read-only")
    assert page.js_errors == []


def _csrf(page):
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def test_zoom_keeps_drawing_in_source_pixels(page, live_server, current):
    _open(page, live_server, current)
    page.locator("h1").click()
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.locator("[data-testid=zoom-level]").inner_text() == "156%"
    page.click("[data-testid=tool-box]")
    _drag(page, (100, 80), (140, 100))  # inside the part still in view
    _label(page, "zoomed")
    _save(page)
    roi = next(r for r in _api_frame(page, live_server, current)["rois"] if r["label"] == ["zoomed"])
    assert _close([100, 80, 140, 80, 140, 100, 100, 100], roi["poly"], tolerance=1)
    page.click("[data-testid=zoom-fit]")
    assert page.locator("[data-testid=zoom-level]").inner_text() == "100%"


def test_mask_value_mapping_is_edited_in_a_table(page, live_server, current):
    _open(page, live_server, current)
    rows = page.locator("[data-testid=mask-mapping-row]")
    count = rows.count()
    car_pixel = """() => {
        const c = document.querySelector('canvas.mask-layer');
        const box = document.querySelector('[data-kind=b2d] polygon').getAttribute('points').split(' ')[0].split(',');
        return Array.from(c.getContext('2d').getImageData(+box[0] + 5, +box[1] + 5, 1, 1).data);
    }"""
    page.wait_for_selector("canvas[data-painted=labels]")
    assert page.evaluate(car_pixel) == [67, 99, 216, 255]  # value (2, 2, 2) is third: #4363d8
    rows.nth(1).locator("[data-testid=mask-labels]").fill("road, asphalt")
    page.click("[data-testid=mask-mapping-add]")
    new = rows.nth(count)
    for channel in "rgb":
        new.locator(f"[data-testid=mask-value-{channel}]").fill("9")
    new.locator("[data-testid=mask-labels]").fill("curb")
    new.locator("[data-testid=mask-labels]").press("Tab")
    page.click("[data-testid=mask-mapping-save]")
    expect(page.locator("[data-testid=mask-mapping-status]")).to_have_text("Saved")
    mapping = page.request.get(f"{live_server.url}/api/versions/{current.pk}/mask-labels/").json()["mask_labels"]
    assert mapping[1] == {"value": [1, 1, 1], "labels": ["road", "asphalt"]}
    assert mapping[-1] == {"value": [9, 9, 9], "labels": ["curb"]}
    rows.nth(0).locator(".chip-remove").click()  # background goes: (2, 2, 2) is second now
    page.click("[data-testid=mask-mapping-save]")
    expect(page.locator("[data-testid=mask-mapping-status]")).to_have_text("Saved")
    assert page.evaluate(car_pixel) == [60, 180, 75, 255]  # recoloured at once: #3cb44b
    mapping = mapping[1:]
    new = rows.nth(count - 1)
    new.locator("[data-testid=mask-value-r]").fill("256")
    new.locator("[data-testid=mask-value-r]").press("Tab")
    page.click("[data-testid=mask-mapping-save]")
    error = page.locator("[data-testid=mask-mapping-error]")
    error.wait_for()
    assert "mask_labels" in error.inner_text() or "value" in error.inner_text()
    assert page.request.get(f"{live_server.url}/api/versions/{current.pk}/mask-labels/").json()[
        "mask_labels"] == mapping
    assert page.js_errors == []


def test_frame_group_rois_belong_to_the_source_drawn_on(page, live_server, examples):
    current = version_head(Dataset.objects.get(name=STEREO))
    frame_id = "stereo-000"
    page.goto(f"{live_server.url}/versions/{current.pk}/frames/{frame_id}/?source=right")
    page.wait_for_selector("[data-testid=viewer][data-editor=ready]")
    options = page.locator("#version-labels option").evaluate_all("els => els.map(e => e.value)")
    assert options, "type-ahead offers the labels of the version"
    page.click("[data-testid=tool-box]")
    _drag(page, (10, 10), (50, 40))
    _label(page, options[0])
    _save(page)
    roi = next(r for r in _api_frame(page, live_server, current, frame_id)["rois"] if r["poly"] and
               _close([10, 10, 50, 10, 50, 40, 10, 40], r["poly"]))
    assert roi["sources"] == ["right"] and roi["label"] == [options[0]]
    page.goto(f"{live_server.url}/versions/{current.pk}/frames/{frame_id}/?source=left")
    page.wait_for_selector("[data-testid=viewer][data-editor=ready]")
    assert page.locator(f"[data-roi-id='{roi['id']}']").count() == 0
