"""The annotation formats leg, one command: ``python bench/formats_leg.py`` (from the repository root, after
install).

On a scratch PostgreSQL database, generates a COCO instances file (default 20,000 images, 200,000
annotations: boxes, and polygons with their boxes, over 80 categories) and times, in process:

- importing it into a Draft version (``formats.services.annotations_import``: parsing the file, building the
  frames, writing them, one transaction), against the baseline: the time ``pycocotools.coco.COCO`` needs to
  load and index the same file, plus a raw psycopg COPY of the resulting frame documents into a bare table;
- exporting that version as COCO (``formats.selectors.annotations_export``: reading its frames page by page
  and building the file), against the time ``json.dump`` needs to write the resulting document.

Writes the "Annotation formats" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "hyperdatasets_bench_formats"
HEADING = "## Annotation formats"


def coco_document(images: int, per_image: int) -> dict:
    categories = [{"id": c + 1, "name": f"class{c}", "supercategory": f"group{c % 8}"} for c in range(80)]
    out_images, annotations = [], []
    for i in range(images):
        out_images.append({"id": i + 1, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480})
        for k in range(per_image):
            x, y = float(5 + (i * 7 + k * 13) % 500), float(3 + (i * 3 + k * 11) % 380)
            ann = {"id": i * per_image + k + 1, "image_id": i + 1, "category_id": (i + k) % 80 + 1,
                   "bbox": [x, y, 40.5, 30.25], "area": 40.5 * 30.25, "iscrowd": 0}
            if k % 2:
                ann["segmentation"] = [[x, y, x + 40, y, x + 40, y + 30, x + 20, y + 35, x, y + 30]]
            annotations.append(ann)
    return {"images": out_images, "annotations": annotations, "categories": categories}


def measure(images: int, per_image: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hyperdatasets.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from psycopg.types.json import Jsonb
    from pycocotools.coco import COCO

    from formats.bundle import Bundle
    from formats.coco import coco_read
    from formats.selectors import annotations_export
    from formats.services import annotations_import
    from hyperdatasets.gc_tuning import tune_collector
    from hyperdatasets.models import DatasetVersion
    from hyperdatasets.selectors.versions import version_head
    from hyperdatasets.services.datasets import dataset_create

    call_command("migrate", verbosity=0)
    tune_collector()
    prefix = "s3://bench-bucket/coco/"
    folder = Path(tempfile.mkdtemp(prefix="hd-bench-formats-"))
    path = folder / "instances_default.json"
    document = coco_document(images, per_image)
    path.write_text(json.dumps(document))
    raw = path.read_bytes()
    del document
    results: dict = {"images": images, "annotations": images * per_image, "file_mb": len(raw) / 2**20}

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        loaded = COCO(str(path))
    results["pycocotools_s"] = time.perf_counter() - start
    assert len(loaded.getAnnIds()) == images * per_image
    del loaded

    frames = coco_read(json.loads(raw), images_prefix=prefix).frames
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw (id bigint PRIMARY KEY, frame_id varchar(255), doc jsonb)")
        start = time.perf_counter()
        with cursor.cursor.copy("COPY bench_raw (id, frame_id, doc) FROM STDIN") as copy:
            for i, frame in enumerate(frames):
                copy.write_row((i, frame["id"], Jsonb(frame)))
        results["copy_s"] = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_raw")
    del frames

    version = version_head(dataset_create(dataset_name="bench-coco"))
    start = time.perf_counter()
    result = annotations_import(version, format="coco", data=Bundle(path.name, raw), images_prefix=prefix)
    results["import_s"] = time.perf_counter() - start
    assert result.frames == images and result.annotations == images * per_image
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hyperdatasets_frame")

    version = DatasetVersion.objects.get(pk=version.pk)
    start = time.perf_counter()
    exported = annotations_export(version, format="coco")
    results["export_s"] = time.perf_counter() - start
    assert exported.images == images and exported.annotations == images * per_image and not exported.report
    written = json.loads(exported.files["annotations/instances_default.json"])
    start = time.perf_counter()
    with open(folder / "dumped.json", "w") as out:
        json.dump(written, out)
    results["json_dump_s"] = time.perf_counter() - start
    results["import_ratio"] = results["import_s"] / (results["pycocotools_s"] + results["copy_s"])
    results["export_ratio"] = results["export_s"] / results["json_dump_s"]
    return results


def render(r: dict, command: str) -> str:
    rows = [
        ("importing the COCO file / (pycocotools loading and indexing it + raw COPY of its frame documents)",
         f"{r['import_ratio']:.2f}x", "<= 2x", r["import_ratio"] <= 2),
        ("exporting the version as COCO / json.dump writing the result", f"{r['export_ratio']:.2f}x", "<= 2x",
         r["export_ratio"] <= 2),
    ]
    lines = [f"{HEADING} (PostgreSQL, in process: services and selectors)", "",
             f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: a COCO instances "
             f"file of {r['images']:,} images and {r['annotations']:,} annotations (boxes; every other one with its "
             f"polygon; 80 categories), {r['file_mb']:.0f} MB.",
             f"Import {r['import_s']:.1f} s (parsing, building and writing {r['images']:,} frames in one transaction); "
             f"baseline: pycocotools {r['pycocotools_s']:.1f} s + COPY {r['copy_s']:.1f} s. Export "
             f"{r['export_s']:.1f} s; json.dump {r['json_dump_s']:.1f} s.",
             "", "| figure | measured | target | |", "| --- | --- | --- | --- |"]
    for what, value, target, ok in rows:
        lines.append(f"| {what} | {value} | {target} | {'meets' if ok else '**misses**'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--per-image", type=int, default=10)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.images, args.per_image)))
        return
    from bench.run import replace_section
    from bench.scratch import measure_in_scratch_database

    results = measure_in_scratch_database(__file__, DATABASE, ["--images", str(args.images), "--per-image",
                                                              str(args.per_image)])
    print(json.dumps(results, indent=1))
    command = ("python bench/formats_leg.py " + " ".join(sys.argv[1:])).strip()
    replace_section(Path(args.output), HEADING, render(results, command))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
