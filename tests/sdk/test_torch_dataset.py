"""hyperdatasets.sdk.torch.DataViewDataset against a live server: DataLoader workers (forked processes) and
torch.distributed ranks (separate processes, gloo) read disjoint parts of one run whose union is the whole,
in the run's order; epochs; decoded images from the local cache; and prefetch_files."""

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image
from torch.utils.data import DataLoader  # torch is in the dev extra

from dataviews.models import DataviewIteration
from hyperdatasets import sdk
from hyperdatasets.sdk import DataView, IterationOrder
from hyperdatasets.sdk.cache import cached_path
from hyperdatasets.sdk.torch import DataViewDataset, collate_frames


@pytest.fixture
def street(street_version):
    view = DataView(name="training", iteration_order=IterationOrder.random, random_seed=11, project_name="dv")
    view.add_query(dataset_name="street", dataset_project="dv", version_name="Current")
    view.set_labels({"car": 1, "person": 2})
    view.store()
    return view


def _ids(loader) -> list[str]:
    return [frame_id for frame_id in loader]


def test_dataloader_workers_read_one_run_in_its_order(street):
    dataset = DataViewDataset(street, transform=lambda frame: frame.id)
    whole = [f.id for f in street.get_iterator(run_key=f"{dataset.run_key}:0")]  # the run the workers read
    assert sorted(whole) == [f"s{i:02d}" for i in range(40)]
    loader = DataLoader(dataset, batch_size=None, num_workers=2)
    # Worker w reads items w, w + 2, ...; the loader takes one from each in turn: the run's own order.
    assert _ids(loader) == whole
    assert DataviewIteration.objects.filter(dataview_id=street.id, key=f"{dataset.run_key}:0").count() == 1
    assert _ids(DataLoader(dataset, batch_size=None, num_workers=3)) == whole  # 40 = 14 + 13 + 13, in turn

    dataset.set_epoch(1)
    epoch_one = _ids(DataLoader(dataset, batch_size=None, num_workers=2))
    assert sorted(epoch_one) == sorted(whole) and epoch_one != whole
    run = DataviewIteration.objects.get(dataview_id=street.id, key=f"{dataset.run_key}:1")
    assert run.random_seed == 12  # the dataview's seed plus the epoch: the same order every time
    again = DataViewDataset(street, transform=lambda frame: frame.id)
    again.set_epoch(1)
    assert _ids(DataLoader(again, batch_size=None, num_workers=2)) == epoch_one


def test_batches_of_frames_with_label_enums(street):
    loader = DataLoader(DataViewDataset(street), batch_size=8, num_workers=2, collate_fn=collate_frames)
    batches = list(loader)
    assert [len(b) for b in batches] == [8, 8, 8, 8, 4, 4]  # each worker batches its own 20, in turn
    frames = [f for batch in batches for f in batch]
    assert len({f.id for f in frames}) == 40
    for frame in frames:
        (roi,) = frame.annotations
        assert roi["label_enum"] == (1 if roi["label"] == ["car"] else 2)
    projected = list(DataViewDataset(street, projection=["id", "meta.time"]))
    assert sorted(p["id"] for p in projected) == sorted(f.id for f in frames)
    with pytest.raises(ValueError, match="projection or images"):
        DataViewDataset(street, projection=["id"], images=True)


RANK = textwrap.dedent("""
    import json, sys
    import torch.distributed as dist
    from torch.utils.data import DataLoader
    from hyperdatasets import sdk
    from hyperdatasets.sdk import DataView
    from hyperdatasets.sdk.torch import DataViewDataset

    url, token, view_id, out = sys.argv[1:5]
    dist.init_process_group("gloo")
    sdk.configure(url=url, token=token)
    dataset = DataViewDataset(DataView.get(dataview_id=view_id), transform=lambda frame: frame.id)
    ids = list(DataLoader(dataset, batch_size=None, num_workers=2))
    with open(out, "w") as f:
        json.dump({"rank": dist.get_rank(), "key": dataset.run_key, "ids": ids}, f)
    dist.destroy_process_group()
""")


def test_distributed_ranks_share_one_run(street, tmp_path):
    from rest_framework.authtoken.models import Token

    client = sdk.client._Client.get()
    token = Token.objects.get(key=client.session.headers["Authorization"].split()[1]).key
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(2):
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
               "WORLD_SIZE": "2", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        procs.append(subprocess.Popen([sys.executable, "-c", RANK, client.url, token, street.id,
                                       str(tmp_path / f"rank{rank}.json")], env=env, stderr=subprocess.PIPE))
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-3000:]
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    assert results[0]["key"] == results[1]["key"]  # rank 0's key, broadcast
    (run,) = DataviewIteration.objects.filter(dataview_id=street.id)
    whole = [f.id for f in street.get_iterator(run_key=run.key)]
    # Rank r, worker w reads part 2r + w of 4: items 2r + w, 2r + w + 4, ...
    for rank, result in enumerate(results):
        expected = [i for i in whole if whole.index(i) % 4 in (2 * rank, 2 * rank + 1)]
        assert result["ids"] == expected
    assert sorted(results[0]["ids"] + results[1]["ids"]) == sorted(whole)


def _png(size, colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_from_the_local_cache_and_prefetch(api, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HYPERDATASETS_CACHE_DIR", str(cache))
    folder = tmp_path / "data"
    folder.mkdir()
    version = sdk.DatasetVersion.create_new_dataset(dataset_name="pictures", dataset_project="dv")
    frames = []
    for i in range(6):
        (folder / f"{i}.png").write_bytes(_png((4 + i, 3), (i, 0, 0)))
        frames.append(sdk.SingleFrame(id=f"p{i}", source=(folder / f"{i}.png").as_uri(), width=4 + i, height=3))
    assert version.add_frames(frames) == []
    view = DataView(name="pictures", project_name="dv")
    view.add_query(dataset_name="pictures", dataset_project="dv", version_name="Current")

    assert view.prefetch_files(num_workers=3) == 6
    for i in range(6):
        assert cached_path((folder / f"{i}.png").as_uri(), None).read_bytes() == (folder / f"{i}.png").read_bytes()
    future = view.prefetch_files(wait=False)
    assert future.result(timeout=60) == 6  # from the cache now

    for i in range(6):
        (folder / f"{i}.png").unlink()  # the images come from the cache alone
    pairs = list(DataLoader(DataViewDataset(view, images=True), batch_size=None, num_workers=2))
    assert sorted(frame.id for frame, _ in pairs) == [f"p{i}" for i in range(6)]
    for frame, image in pairs:
        i = int(frame.id[1:])
        assert image.size == (4 + i, 3) and image.getpixel((0, 0)) == (i, 0, 0)
