from hyperdatasets.examples import STEREO, STREET
from tests.browser.conftest import screenshot


def test_example_banner_on_cards_and_page(page):
    cards = page.locator("[data-testid=dataset-card]")
    assert cards.count() == 2
    assert page.locator(".card .banner", has_text="Example").count() == 2
    screenshot(page, "datasets")
    page.click(f"text={STREET}")
    assert page.locator("[data-testid=example-banner]").is_visible()


def test_version_tree_of_an_example_dataset(page):
    page.click(f"text={STREET}")
    tree = page.locator("[data-testid=version-tree]")
    tree.wait_for()
    names = sorted(page.locator("[data-testid=version-node]").evaluate_all("els => els.map(e => e.dataset.name)"))
    assert names == ["Current", "relabel-signs", "v1", "v2"]
    assert page.locator("[data-testid=version-node].current").get_attribute("data-name") == "Current"
    assert page.locator("[data-testid=version-node][data-status=published]").count() == 3
    assert page.locator("[data-testid=edge]").count() == 3
    screenshot(page, "dataset-version-tree")


def test_frame_with_overlays_and_mask_legend(page):
    page.click(f"text={STREET}")
    page.click("[data-testid=version-node][data-name=Current]")
    page.locator("[data-testid=frame-thumb] img").first.wait_for()
    screenshot(page, "version")
    page.click("[data-frame-id=street-001] a")
    page.wait_for_selector("canvas[data-painted=labels]")
    kinds = sorted(page.locator("[data-testid=roi]").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert kinds == ["b2d", "elp", "k2d", "p2d"]
    assert page.locator("[data-testid=frame-mask-legend]").inner_text().count("car") == 1
    # The mask is recoloured from the mapping: the car's pixels take the legend colour of value (2, 2, 2).
    pixel = page.evaluate("""() => {
        const c = document.querySelector('canvas.mask-layer');
        const box = document.querySelector('[data-kind=b2d] polygon').getAttribute('points').split(' ')[0].split(',');
        return Array.from(c.getContext('2d').getImageData(+box[0] + 5, +box[1] + 5, 1, 1).data);
    }""")
    assert pixel == [67, 99, 216, 255]  # #4363d8, the third palette colour
    page.check("input[name=mask-mode][value=alpha]")
    page.wait_for_selector("canvas[data-painted=alpha]")
    page.uncheck(".mask-toggle")
    assert page.locator("canvas.mask-layer").is_hidden()
    page.locator("h1").click()  # arrow keys belong to form fields while one has the focus
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**/street-002/")
    screenshot(page, "frame")
    assert page.js_errors == []


def test_frame_group_sources(page):
    page.click(f"text={STEREO}")
    page.click("[data-testid=version-node][data-name=Current]")
    page.click("[data-frame-id=stereo-000] a")
    page.click("[data-testid=source-tabs] >> text=right")
    assert page.locator("[data-testid=all-sources] .thumb").count() == 2
    screenshot(page, "frame-group")


def test_create_snapshot_from_the_page(page):
    page.click(f"text={STEREO}")
    assert page.locator("[data-testid=snapshot-form]").is_visible()
    page.fill("[data-testid=snapshot-form] input[name=publish_name]", "from-the-page")
    page.click("[data-testid=snapshot-form] button")
    page.locator("[data-testid=message]").wait_for()
    assert "is the current version" in page.locator("[data-testid=message]").inner_text()
    node = page.locator("[data-testid=version-node][data-name=from-the-page]")
    assert node.get_attribute("data-status") == "published"
    assert page.locator("[data-testid=version-node].current").get_attribute("data-name") == "Current"
    screenshot(page, "snapshot-created")


def test_projects_page_from_the_top_bar(page):
    page.click("header.topbar >> text=Projects")
    page.locator("[data-testid=projects]").wait_for()
    rows = page.locator("[data-testid=project-row]")
    assert rows.count() >= 1
    screenshot(page, "projects")
    rows.first.locator("td a").first.click()
    page.locator("[data-testid=dataset-card]").first.wait_for()
    assert "project=" in page.url
    assert page.js_errors == []


def test_api_docs_and_pages_run_under_the_content_security_policy(page, live_server):
    # Swagger UI starts from its own script file (no inline script) and renders the schema's operations.
    page.goto(live_server.url + "/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() > 20
    screenshot(page, "api-docs")
    # A dataset is moved from its page; the form and the flash message work without inline script.
    page.goto(live_server.url + "/")
    page.click(f"text={STREET}")
    assert page.locator("[data-testid=move-form]").is_visible()
    assert page.csp_violations == [] and page.js_errors == []
