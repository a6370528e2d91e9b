"""The version page's frame filter: ROI rules, a frame rule, OR between groups, raw Lucene, sorting, the
schema view; the filter lives in the URL."""

import json
from urllib.parse import parse_qs, urlparse

from hyperdatasets.examples import STREET
from hyperdatasets.models import DatasetVersion
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.selectors.frame_pages import frames_query_count
from tests.browser.conftest import screenshot


def _open_current(page):
    page.click(f"text={STREET}")
    page.click("[data-testid=version-node][data-name=Current]")
    page.locator("[data-testid=frame-thumb]").first.wait_for()
    return DatasetVersion.objects.get(dataset__name=STREET, name="Current")


def _shown(page):
    page.locator("[data-testid=frame-grid]").wait_for()
    return page.locator("[data-testid=frame-thumb]").evaluate_all("els => els.map(e => e.dataset.frameId)")


def _url_params(page):
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


def test_roi_rules_frame_rules_or_groups_and_the_url(page):
    version = _open_current(page)
    everything = _shown(page)
    group = page.locator("[data-testid=filter-group]").first
    group.locator("text=+ ROI rule").click()
    group.locator("[aria-label='ROI label rule']").fill("night")
    page.click("[data-testid=apply-filter]")
    night = _shown(page)
    params = _url_params(page)
    assert json.loads(params["filters"]) == [{"label_rules": [{"label": "night"}]}]
    assert 0 < len(night) < len(everything)
    assert len(night) == frames_query_count(version, selection_from([version.dataset_id], params))
    assert page.locator("[data-testid=frame-count]").inner_text() == f"({len(night)} of {len(everything)})"

    # A second group, ORed: night frames or clear weather.
    page.click("text=+ OR filter")
    page.locator("[data-testid=filter-group]").nth(1).locator("[aria-label='frame rule']").fill("meta.weather:clear")
    page.click("[data-testid=apply-filter]")
    either = _shown(page)
    params = _url_params(page)
    assert set(night) < set(either) <= set(everything)
    assert len(either) == frames_query_count(version, selection_from([version.dataset_id], params))
    screenshot(page, "version-frame-filter")

    # The URL holds the filter: opened again, the panel shows the same rules.
    page.goto(page.url)
    assert page.locator("[data-testid=filter-group]").count() == 2
    assert page.locator("[aria-label='ROI label rule']").first.input_value() == "night"
    assert page.locator("[aria-label='frame rule']").nth(1).input_value() == "meta.weather:clear"
    assert _shown(page) == either


def test_count_range_must_not_raw_lucene_sort_and_schema(page):
    version = _open_current(page)
    group = page.locator("[data-testid=filter-group]").first
    group.locator("text=+ ROI rule").click()
    rule = group.locator("[data-testid=roi-rule]").first
    rule.locator("[aria-label='ROI label rule']").fill("car")
    rule.locator("[aria-label='count min']").fill("2")
    rule.locator("[aria-label='count max']").fill("2")
    group.locator("text=+ ROI rule").click()
    second = group.locator("[data-testid=roi-rule]").nth(1)
    second.locator("[aria-label='ROI label rule']").fill("day")
    second.locator("[aria-label='must not']").check()
    page.click("[data-testid=apply-filter]")
    shown = _shown(page)
    rules = json.loads(_url_params(page)["filters"])[0]["label_rules"]
    assert rules == [{"label": "car", "count_range": [2, 2]}, {"label": "day", "must_not": True}]
    assert len(shown) == frames_query_count(version, selection_from([version.dataset_id], _url_params(page)))

    page.goto(page.url.split("?")[0])
    page.check("[data-testid=raw-toggle]")
    page.fill("[data-testid=raw-query]", "meta.weather:cloudy AND meta.frame:[2 TO *]")
    page.select_option("[data-testid=order-by]", "-meta.frame")
    page.click("[data-testid=apply-filter]")
    ids = _shown(page)
    frames = [int(i.split("-")[1]) for i in ids]
    assert frames == sorted(frames, reverse=True) and all(n >= 2 and n % 2 == 0 for n in frames) and frames

    # A query the server refuses shows its reason, never a server error.
    page.fill("[data-testid=raw-query]", "meta.frame:lots")
    page.click("[data-testid=apply-filter]")
    assert "meta.frame is a number" in page.locator("[role=alert]").inner_text()

    page.click("text=View dataset schema")
    assert "meta.weather" in page.locator("[data-testid=dataset-schema]").inner_text()
    # Typing a field suggests the schema's fields.
    page.fill("[data-testid=raw-query]", "meta.we")
    page.dispatch_event("[data-testid=raw-query]", "input")
    options = page.locator("#field-suggestions option").evaluate_all("els => els.map(e => e.value)")
    assert options == ["meta.weather:"]
    assert page.js_errors == []
