"""Deleting a dataset from its page, with its sources: the confirmation, then the job page whose progress bar
follows a real worker deleting real objects (moto for S3, the GCS emulator) until the totals."""

import time

from hyperdatasets.models import Dataset
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from tests.browser.conftest import screenshot
from tests.deletion.servers import ThrottleProxy


def test_delete_flow_with_its_progress_bar(page, live_server, stores, start_worker, django_user_model):
    viewer = django_user_model.objects.get(username="viewer")
    keys = [f"cam/{i}.jpg" for i in range(40)]
    stores.put("s3", keys)
    stores.put("gs", keys[:10])
    slow = ThrottleProxy(stores.endpoints["s3"], latency=0.15)  # so the bar is seen moving
    try:
        stores.point_at(s3=slow.url)
        dataset = dataset_create(dataset_name="Old captures", dataset_project="fleet", user=viewer)
        frames_upsert(version_head(dataset), [{"id": k, "sources": [{"uri": stores.uri("s3", k)}]} for k in keys]
                      + [{"id": f"g-{k}", "sources": [{"uri": stores.uri("gs", k)}]} for k in keys[:10]])
        start_worker(HYPERDATASETS_DELETE_BATCH_LIMIT=4, HYPERDATASETS_DELETE_IN_FLIGHT=1,
                     HYPERDATASETS_DELETE_ROUND_SECONDS=0)

        page.goto(f"{live_server.url}/datasets/{dataset.pk}/")
        page.click("text=Delete this dataset…")
        form = page.locator("[data-testid=delete-form]")
        form.locator("input[name=delete_all_versions]").check()
        form.locator("input[name=delete_sources]").check()
        form.locator("input[name=confirm_name]").fill("Old captures")
        form.locator("button").click()
        page.wait_for_url(f"{live_server.url}/deletions/*/")
        assert "source files are being deleted" in page.locator("[data-testid=message]").inner_text()
        assert not Dataset.objects.filter(pk=dataset.pk).exists()

        bar = page.locator("[data-testid=job-progress]")
        seen = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen.append((int(bar.evaluate("b => b.value")), int(bar.evaluate("b => b.max"))))
            if page.locator("[data-testid=job-status]").inner_text() == "succeeded":
                break
            page.wait_for_timeout(100)
        seen.append((int(bar.evaluate("b => b.value")), int(bar.evaluate("b => b.max"))))
        screenshot(page, "deletion-job")
    finally:
        slow.close()
    assert page.locator("[data-testid=job-status]").inner_text() == "succeeded"
    values = [value for value, _ in seen]
    assert values == sorted(values), "the bar went back"
    assert seen[-1] == (50, 50)
    assert any(0 < value < 50 for value in values), "the bar never showed a value between the ends"
    counts = page.locator("[data-testid=job-counts]").inner_text()
    assert "50 of 50 objects" in counts and "50 deleted" in counts and "0 failed" in counts
    assert page.locator("[data-testid=job-providers] [data-provider=s3] [data-field=deleted]").inner_text() == "40"
    assert page.js_errors == []
    assert stores.existing("s3") == set() and stores.existing("gs") == set()
