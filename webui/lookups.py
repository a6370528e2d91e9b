"""Objects a page may show: those the signed-in user may see, else 404."""

from __future__ import annotations

from django.http import Http404

from hyperdatasets.access import visible_datasets, visible_versions
from hyperdatasets.models import Dataset, DatasetVersion


def visible_dataset_or_404(request, dataset_id) -> Dataset:
    dataset = visible_datasets(request.user).select_related("project").filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("dataset not found")
    return dataset


def visible_version_or_404(request, version_id) -> DatasetVersion:
    version = visible_versions(request.user).select_related("dataset", "dataset__project").filter(
        pk=version_id).first()
    if version is None:
        raise Http404("version not found")
    return version
