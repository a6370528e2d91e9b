"""Admin forms whose saving goes through the services.

``clean()`` runs the service in a savepoint that is rolled back, so a refusal becomes a form error naming the
field; ``save_model`` then runs it for real.
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.db.models import Q

from hyperdatasets.access import projects_open_to, require_create_in_project, require_dataset_move
from hyperdatasets.exceptions import ServiceError
from hyperdatasets.models import Dataset, DatasetVersion, Project, StorageCredential, VersionStatus
from hyperdatasets.services.datasets import dataset_create, dataset_update
from hyperdatasets.services.projects import project_create, project_update
from hyperdatasets.services.tags import dataset_tags_get, dataset_tags_set
from hyperdatasets.services.versions import version_create, version_update
from hyperdatasets.storage.credentials import encrypt_secret


class _DryRun(Exception):
    pass


class ServiceFormMixin:
    user = None

    def run_service(self):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.run_service()
                raise _DryRun
        except _DryRun:
            pass
        except ServiceError as exc:
            fields = [f for f in exc.details if f in self.fields]
            for field in fields:
                self.add_error(field, "; ".join(exc.details[field]))
            if not fields:
                self.add_error(None, exc.message)
        return cleaned


class ProjectForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description"]

    def run_service(self) -> Project:
        data = self.cleaned_data
        if self.instance._state.adding:
            return project_create(
                name=data["name"], description=data["description"], user=self.user, raise_if_exists=True
            )
        return project_update(self.instance, name=data["name"], description=data["description"])


class DatasetForm(ServiceFormMixin, forms.ModelForm):
    tags_text = forms.CharField(
        label="Tags", required=False, help_text="Comma-separated, in order; duplicates are dropped."
    )

    class Meta:
        model = Dataset
        fields = ["name", "project", "description", "metadata", "is_example"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["tags_text"].initial = ", ".join(dataset_tags_get(self.instance))
        if "project" in self.fields and self.user is not None:
            # Only where the user may put a dataset, and where it is now.
            open_to = projects_open_to(self.user).values("pk")
            self.fields["project"].queryset = Project.objects.filter(
                Q(pk__in=open_to) | Q(pk=self.instance.project_id))

    def _tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("tags_text", "").split(",") if t.strip()]

    def run_service(self) -> Dataset:
        data = self.cleaned_data
        project = data.get("project")
        if self.instance._state.adding:
            require_create_in_project(self.user, project.name if project else None)
            dataset = dataset_create(
                dataset_name=data["name"], dataset_project=project.name if project else None,
                description=data["description"], metadata=data["metadata"], is_example=data["is_example"],
                raise_if_exists=True, user=self.user,
            )
        else:
            current = Dataset.objects.select_related("project").get(pk=self.instance.pk)
            require_dataset_move(self.user, current, project)
            dataset = dataset_update(
                current, name=data["name"], description=data["description"],
                metadata=data["metadata"], project=project, move_project=True,
            )
            if dataset.is_example != data["is_example"]:
                Dataset.objects.filter(pk=dataset.pk).update(is_example=data["is_example"])
        dataset_tags_set(dataset, self._tags())
        return dataset


class DatasetVersionAddForm(ServiceFormMixin, forms.ModelForm):
    parents = forms.ModelMultipleChoiceField(
        queryset=DatasetVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("dataset"),
        required=False, help_text="Published versions of the same dataset; none makes an empty root version.",
    )

    class Meta:
        model = DatasetVersion
        fields = ["dataset", "name", "comment", "metadata"]

    def run_service(self) -> DatasetVersion:
        data = self.cleaned_data
        return version_create(
            data["dataset"], version_name=data["name"],
            parent_version_ids=[p.pk for p in data.get("parents") or []], raise_if_exists=True,
            metadata=data["metadata"], comment=data["comment"], user=self.user,
        )


class DatasetVersionChangeForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = DatasetVersion
        fields = ["name", "comment", "metadata"]

    def run_service(self) -> DatasetVersion:
        data = self.cleaned_data
        current = DatasetVersion.objects.select_related("dataset").get(pk=self.instance.pk)
        return version_update(current, name=data["name"], comment=data["comment"], metadata=data["metadata"])


class StorageCredentialForm(forms.ModelForm):
    """The secret is write-only: the field starts empty, and leaving it empty keeps the saved one."""

    secret = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False),
        help_text="S3 secret access key; GCS service-account JSON; Azure connection string or account key. "
                  "Stored encrypted and never shown again; leave empty to keep the saved secret.",
    )
    clear_secret = forms.BooleanField(required=False, help_text="remove the saved secret")

    class Meta:
        model = StorageCredential
        fields = ["provider", "bucket", "endpoint_url", "region", "access_key"]

    def save(self, commit=True):
        credential = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            credential.secret_encrypted = ""
        elif self.cleaned_data.get("secret"):
            credential.secret_encrypted = encrypt_secret(self.cleaned_data["secret"])
        if commit:
            credential.save()
        return credential
