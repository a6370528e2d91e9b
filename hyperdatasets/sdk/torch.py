"""A PyTorch ``IterableDataset`` over a dataview: ``from hyperdatasets.sdk.torch import DataViewDataset``.

PyTorch is optional (``pip install "hyperdatasets[torch]"``); nothing else in the SDK imports it.

Every copy of the dataset (the DataLoader's worker processes, on every ``torch.distributed`` rank) reads its
own part of **one** run of the dataview: the copies agree on a run key, made once when the dataset is built
(and sent from rank 0 to the other ranks when a process group is up), and the first copy to ask the server
starts the run; the others read the same one. Worker ``w`` of ``W`` on rank ``r`` of ``R`` reads part
``r * W + w`` of ``R * W``: the parts are disjoint, and together they are the whole iteration.

Call ``set_epoch(n)`` before each epoch (as with ``DistributedSampler``): each epoch is a run of its own, and a
dataview with a random seed ``s`` reads epoch ``n`` in the order of seed ``s + n``, the same order every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from hyperdatasets.sdk.dataviews import DataView
from hyperdatasets.sdk.frames import FrameGroup, SingleFrame

MAX_SEED = 2**31 - 1


def _rank() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _shared_key() -> str:
    """One key for every rank: rank 0's, broadcast when a process group is up."""
    key = uuid.uuid4().bytes
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        # 16 bytes as a tensor (broadcast_object_list would need numpy); NCCL sends only CUDA tensors.
        tensor = torch.tensor(list(key), dtype=torch.uint8)
        if dist.get_backend() == "nccl":
            tensor = tensor.cuda()
        dist.broadcast(tensor, src=0)
        key = bytes(tensor.cpu().tolist())
    return key.hex()


def load_image(frame: SingleFrame):
    """The frame's image (Pillow), read from the local cache (fetched into it first when needed)."""
    from PIL import Image

    path = frame.get_local_source(raise_on_error=True)
    with Image.open(path) as image:
        image.load()
        return image


class DataViewDataset(IterableDataset):
    """Frames of a dataview, for ``torch.utils.data.DataLoader``.

    ``projection``: dicts of those fields instead of frames. ``images``: yield ``(frame, image)`` pairs, the
    image decoded with Pillow from the local cache (a dict of images by source id for a ``FrameGroup``).
    ``transform``: applied to each item before it is yielded. ``batch_size``: frames per request to the server.
    ``run_key``: the key of the run to read (by default one made here); pass the same one to datasets built in
    separate processes that are to share a run.

    Items are frames (not tensors): give the DataLoader a ``transform`` that makes tensors, or a
    ``collate_fn`` (``collate_frames`` keeps a batch as a list).
    """

    def __init__(self, dataview: DataView, *, projection: list[str] | None = None, images: bool = False,
                 transform: Callable[[Any], Any] | None = None, batch_size: int = 500,
                 allow_repetition: bool = False, run_key: str | None = None) -> None:
        super().__init__()
        if projection is not None and images:
            raise ValueError("images need frames: give projection or images, not both")
        dataview._stored()  # stored once here, not by every worker
        self.dataview = dataview
        self.projection, self.images, self.transform = projection, images, transform
        self.batch_size, self.allow_repetition = batch_size, allow_repetition
        self.run_key = run_key or _shared_key()
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def shard(self) -> tuple[int, int]:
        """(part, parts) this copy reads: by DataLoader worker and torch.distributed rank."""
        rank, world = _rank()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank * workers + worker, world * workers

    def _seed(self) -> int | None:
        seed = self.dataview._iteration.get("random_seed")
        if seed is None or self.epoch == 0:
            return None
        return (int(seed) + self.epoch) % (MAX_SEED + 1)

    def __iter__(self) -> Iterator[Any]:
        part, parts = self.shard()
        frames = self.dataview.get_iterator(
            projection=self.projection, num_workers=parts, worker_index=part, batch_size=self.batch_size,
            allow_repetition=self.allow_repetition, run_key=f"{self.run_key}:{self.epoch}", random_seed=self._seed())
        for frame in frames:
            item: Any = frame
            if self.images:
                image = ({source: load_image(member) for source, member in frame.items()}
                         if isinstance(frame, FrameGroup) else load_image(frame))
                item = (frame, image)
            yield self.transform(item) if self.transform is not None else item


def collate_frames(batch: list) -> list:
    """A ``collate_fn`` that keeps a batch of frames as a list (the default one makes tensors)."""
    return list(batch)


__all__ = ["DataViewDataset", "collate_frames", "load_image"]
