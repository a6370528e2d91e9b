"""The ``hyperdatasets`` command: manage datasets, versions and frames from a shell, over the REST API.

Server and token: ``--url`` and ``--token``, or HYPERDATASETS_API_URL and HYPERDATASETS_API_TOKEN, or
``~/.hyperdatasets.json``. Exit codes: 0 done, 1 refused by the server or a failed frame, 2 bad usage,
3 not found, 4 not allowed, 5 server unreachable or failing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hyperdatasets import sdk

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
EXIT_CODES = [(sdk.NotFoundError, 3), (sdk.AccessDeniedError, 4), (sdk.ServerError, 5),
              (sdk.HyperDatasetsError, 1)]


def _version(args) -> sdk.DatasetVersion:
    if getattr(args, "version", None):
        return sdk.DatasetVersion.get_version(dataset_name=args.dataset, dataset_project=args.project,
                                              version_name=args.version)
    return sdk.DatasetVersion.get_current(dataset_name=args.dataset, dataset_project=args.project)


def cmd_datasets(args) -> int:
    for dataset in sdk.Dataset.list(dataset_project=args.project, tags=args.tag, partial_name=args.name):
        print(f"{dataset.id}  {dataset.project or '-':20}  {dataset.name}  [{', '.join(dataset.tags)}]")
    return 0


def cmd_versions(args) -> int:
    versions = sdk.DatasetVersion.get_versions(dataset_name=args.dataset, dataset_project=args.project,
                                               only_published=args.published, only_draft=args.draft)
    for version in versions:
        print(f"{version.id}  {version.status:9}  {version.name}  parents={','.join(version.parents) or '-'}")
    return 0


def cmd_create(args) -> int:
    dataset = sdk.Dataset.create(dataset_name=args.dataset, dataset_project=args.project, tags=args.tag,
                                 description=args.description, raise_if_exists=args.raise_if_exists)
    print(dataset.id)
    return 0


def cmd_snapshot(args) -> int:
    child = sdk.DatasetVersion.create_snapshot(dataset_name=args.dataset, dataset_project=args.project,
                                               publish_name=args.publish_name, child_name=args.child_name)
    print(f"current version: {child.name} ({child.id})")
    return 0


def cmd_child(args) -> int:
    version = sdk.DatasetVersion.create_version(dataset_name=args.dataset, dataset_project=args.project,
                                                version_name=args.name, parent_version_names=args.parent or None,
                                                raise_if_exists=args.raise_if_exists)
    print(version.id)
    return 0


def cmd_publish(args) -> int:
    version = _version(args)
    version.publish_version()
    print(f"published {version.name} ({version.id})")
    return 0


def _frames_from_folder(folder: Path) -> list[sdk.SingleFrame]:
    from PIL import Image, UnidentifiedImageError

    frames = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            width = height = None
        frames.append(sdk.SingleFrame(source=str(path.resolve()), width=width, height=height))
    return frames


def _frames_from_jsonl(path: Path) -> list[dict]:
    frames = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    frames.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise sdk.InvalidRequestError(f"{path}:{number}: not JSON ({exc})") from None
    return frames


def cmd_add_frames(args) -> int:
    version = _version(args)
    if args.folder:
        folder = Path(args.folder)
        if not folder.is_dir():
            raise sdk.InvalidRequestError(f"{folder} is not a folder")
        frames = _frames_from_folder(folder)
        root = str(folder.resolve())
    else:
        frames, root = _frames_from_jsonl(Path(args.jsonl)), args.root
    failed = version.add_frames(frames, auto_upload_destination=args.upload_destination,
                                local_dataset_root_path=root, batch_size=args.batch_size,
                                show_progress=args.progress)
    for failure in version.last_failures:
        print(f"failed: {failure['id']} {failure['field']}: {failure['reason']}", file=sys.stderr)
    print(f"added {len(frames) - len(failed)} frames to {version.name}; {len(failed)} failed")
    return 1 if failed else 0


def cmd_import(args) -> int:
    version = _version(args)
    job = version.import_annotations(args.file, format=args.format, images_prefix=args.images_prefix,
                                     show_progress=args.progress)
    print(f"imported {job.done} images and {job.annotations} annotations into {version.name}")
    return 0


def cmd_export(args) -> int:
    version = _version(args)
    if args.format != "jsonl":
        if not args.destination:
            raise sdk.InvalidRequestError(f"--destination: give the folder to unpack the {args.format} export into")
        folder = version.export_annotations(format=args.format, destination=args.destination,
                                            show_progress=args.progress, include_images=args.include_images)
        for kind, count in version.last_export_report.items():
            print(f"not carried by {args.format}: {count} {kind}", file=sys.stderr)
        print(folder)
        return 0
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    count = 0
    try:
        for document in version.iterate_frame_documents(page_size=1000):
            out.write(json.dumps(document, separators=(",", ":")) + "\n")
            count += 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} frames of {version.name}", file=sys.stderr)
    return 0


def cmd_delete(args) -> int:
    job = sdk.Dataset.delete(dataset_name=args.dataset, dataset_project=args.project,
                             delete_all_versions=args.all_versions, force=args.force, delete_sources=args.sources,
                             show_progress=args.progress, wait=True)
    print(f"deleted {args.dataset}")
    if job is None:
        return 0
    print(f"sources: {job.status}: {job.deleted} deleted, {job.skipped} skipped {job.skipped_reasons}, "
          f"{job.failed} failed of {job.total} (job {job.id})")
    for error in job.errors:
        print(f"  {error['count']} x {error['provider']}: {error['message']} (e.g. {error['example_uri']})",
              file=sys.stderr)
    return 0 if job.status == "succeeded" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyperdatasets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="server base URL (default: HYPERDATASETS_API_URL)")
    parser.add_argument("--token", help="API token (default: HYPERDATASETS_API_TOKEN)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        return sub

    def dataset_args(sub):
        sub.add_argument("dataset", help="dataset name")
        sub.add_argument("--project", help="the dataset's project")

    sub = command("datasets", cmd_datasets, "list datasets")
    sub.add_argument("--project")
    sub.add_argument("--tag", action="append", default=[], help="only datasets with this tag (repeatable)")
    sub.add_argument("--name", help="part of the name")

    sub = command("versions", cmd_versions, "list a dataset's versions")
    dataset_args(sub)
    group = sub.add_mutually_exclusive_group()
    group.add_argument("--published", action="store_true", help="only Published versions")
    group.add_argument("--draft", action="store_true", help="only Draft versions")

    sub = command("create", cmd_create, "create a dataset (with an empty Draft version 'Current')")
    dataset_args(sub)
    sub.add_argument("--tag", action="append", default=[])
    sub.add_argument("--description")
    sub.add_argument("--raise-if-exists", action="store_true", help="fail if the dataset exists")

    sub = command("snapshot", cmd_snapshot, "publish the current Draft and continue in a new Draft child")
    dataset_args(sub)
    sub.add_argument("--publish-name")
    sub.add_argument("--child-name")

    sub = command("child", cmd_child, "create a Draft version from Published parents (none: an empty root)")
    dataset_args(sub)
    sub.add_argument("--name", required=True, help="the new version's name")
    sub.add_argument("--parent", action="append", default=[], help="parent version name (repeatable, in order)")
    sub.add_argument("--raise-if-exists", action="store_true")

    sub = command("publish", cmd_publish, "publish a Draft version (read-only from then on)")
    dataset_args(sub)
    sub.add_argument("--version", required=True)

    sub = command("add-frames", cmd_add_frames, "add frames from a folder of images or a JSON-lines file")
    dataset_args(sub)
    sub.add_argument("--version", help="version name (default: the current version)")
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument("--folder", help="every image under this folder becomes a frame")
    source.add_argument("--jsonl", help="one frame document per line")
    sub.add_argument("--root", help="with --jsonl: root of local paths to keep relative when uploading")
    sub.add_argument("--upload-destination", help="upload local files to the server under this folder")
    sub.add_argument("--batch-size", type=int, default=10_000)
    sub.add_argument("--progress", action="store_true", help="show a progress bar")

    sub = command("import", cmd_import, "import annotations (a COCO file, a COCO or YOLO zip) into a Draft version, "
                                        "all or nothing")
    dataset_args(sub)
    sub.add_argument("--version", help="version name (default: the current version)")
    sub.add_argument("--format", default="coco", choices=["coco", "yolo", "voc", "cvat", "datumaro"])
    sub.add_argument("--file", required=True, help="the annotation file, a zip archive, or a dataset folder")
    sub.add_argument("--images-prefix",
                     help="joined with each image's path: its URI (s3://bucket/coco/val2017/, ...); without it, the "
                          "images of the archive or folder are uploaded")
    sub.add_argument("--progress", action="store_true", help="show a progress bar")

    sub = command("export", cmd_export,
                  "write a version's frames as JSON lines, or its annotations (--format coco|yolo)")
    dataset_args(sub)
    sub.add_argument("--version", help="version name (default: the current version)")
    sub.add_argument("--format", default="jsonl", choices=["jsonl", "coco", "yolo", "voc", "cvat", "datumaro"])
    sub.add_argument("--output", default="-", help="jsonl: the file to write (default: standard output)")
    sub.add_argument("--destination", help="annotation formats: the folder to unpack the export into")
    sub.add_argument("--include-images", action="store_true",
                     help="annotation formats: copy the images the server stores into the export")
    sub.add_argument("--progress", action="store_true", help="show a progress bar")

    sub = command("delete", cmd_delete, "delete a dataset")
    dataset_args(sub)
    sub.add_argument("--all-versions", action="store_true", help="delete its versions too (Drafts only, "
                                                                     "unless --force)")
    sub.add_argument("--force", action="store_true", help="also delete Published versions")
    sub.add_argument("--sources", action="store_true", help="also delete the source files (with --all-versions)")
    sub.add_argument("--progress", action="store_true", help="show a progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.url or args.token:
        sdk.configure(url=args.url, token=args.token)
    try:
        return args.func(args)
    except sdk.HyperDatasetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


if __name__ == "__main__":
    sys.exit(main())
