"""Who may do what: the one policy of the project, used by the API, the pages and the admin.

Roles are ordered: read < write < admin. A project's rules grant users or groups a role on the project and
its datasets; the project's creator gets admin. Datasets outside any project: every signed-in user may
write; admin is their creator's. Superusers are admin everywhere. An object the caller may not read is
reported as not found.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet

from hyperdatasets.exceptions import NotFound, ServiceError
from hyperdatasets.models import AccessRole, Dataset, DatasetVersion, DeletionJob, Project, ProjectAccessRule
from hyperdatasets.selectors.frames import db_uuid


class Role(IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3


_ROLE_OF = {AccessRole.READ: Role.READ, AccessRole.WRITE: Role.WRITE, AccessRole.ADMIN: Role.ADMIN}

# The policy table: each action and the least role it needs on the object's project (or dataset).
POLICY: dict[str, Role] = {
    "project.view": Role.READ,
    "project.edit_rules": Role.ADMIN,
    "project.add_dataset": Role.WRITE,
    "dataset.view": Role.READ,
    "dataset.change": Role.WRITE,
    "dataset.delete": Role.ADMIN,
    "dataset.delete_sources": Role.ADMIN,
    "dataset.move_out": Role.ADMIN,
    "version.view": Role.READ,
    "version.create": Role.WRITE,
    "version.change": Role.WRITE,
    "version.publish": Role.WRITE,
    "version.snapshot": Role.WRITE,
    "version.delete": Role.WRITE,
    "frames.view": Role.READ,
    "frames.change": Role.WRITE,
    "uploads.create": Role.WRITE,
    "deletion.view": Role.READ,
    "deletion.retry": Role.ADMIN,
    "dataview.view": Role.READ,
    "dataview.change": Role.WRITE,
    "dataview.delete": Role.WRITE,
    "project.add_dataview": Role.WRITE,
}


class AccessDenied(ServiceError):
    """The caller may see the object but not do this to it (HTTP 403)."""

    code = "permission_denied"


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


@cache
def _rules_sql() -> str:
    """The roles the rules of one project grant one user, directly or through a group: the check every
    request makes, as plain SQL (the ORM spent more time building this query than the database running it)."""
    user_groups = get_user_model().groups.through._meta.db_table
    return (f"SELECT role FROM {ProjectAccessRule._meta.db_table} WHERE project_id = %s AND "
            f"(user_id = %s OR group_id IN (SELECT group_id FROM {user_groups} WHERE user_id = %s))")


def project_role(user, project: Project) -> Role:
    if not _signed_in(user):
        return Role.NONE
    if user.is_superuser:
        return Role.ADMIN
    with connection.cursor() as cursor:
        cursor.execute(_rules_sql(), [db_uuid(project.pk), user.pk, user.pk])
        return max((_ROLE_OF[role] for (role,) in cursor.fetchall()), default=Role.NONE)


def project_roles(user) -> dict:
    """The caller's role on every project a rule grants them (one query); superusers: use ``project_role``."""
    roles: dict = {}
    if not _signed_in(user):
        return roles
    rules = ProjectAccessRule.objects.filter(Q(user=user) | Q(group__user=user)).values_list("project_id", "role")
    for project_id, role in rules:
        roles[project_id] = max(roles.get(project_id, Role.NONE), _ROLE_OF[role])
    return roles


def dataset_role(user, dataset: Dataset) -> Role:
    if not _signed_in(user):
        return Role.NONE
    if dataset.project_id is not None:
        return project_role(user, dataset.project)
    if user.is_superuser or dataset.created_by_id == user.pk:
        return Role.ADMIN
    return Role.WRITE


def visible_projects(user) -> QuerySet[Project]:
    if not _signed_in(user):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    granted = ProjectAccessRule.objects.filter(Q(user=user) | Q(group__user=user)).values("project_id")
    return Project.objects.filter(pk__in=granted)


def visible_datasets(user) -> QuerySet[Dataset]:
    if not _signed_in(user):
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(Q(project__isnull=True) | Q(project__in=visible_projects(user).values("pk")))


def visible_versions(user) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(dataset__in=visible_datasets(user).values("pk"))


def deletion_job_role(user, job: DeletionJob) -> Role:
    """A job keeps its dataset's project: the project's rules apply. Outside projects, the job is its
    creator's (and superusers')."""
    if not _signed_in(user):
        return Role.NONE
    if job.project_id is not None:
        return project_role(user, job.project)
    return Role.ADMIN if user.is_superuser or job.created_by_id == user.pk else Role.NONE


def visible_deletion_jobs(user) -> QuerySet[DeletionJob]:
    if not _signed_in(user):
        return DeletionJob.objects.none()
    if user.is_superuser:
        return DeletionJob.objects.all()
    return DeletionJob.objects.filter(Q(project__in=visible_projects(user).values("pk"))
                                      | Q(project__isnull=True, created_by=user))


def require_deletion_job(user, job: DeletionJob, action: str) -> None:
    require(user, deletion_job_role(user, job), action, f"deletion job {job.pk}")


def require(user, role: Role, action: str, what: str) -> None:
    """Refuse unless ``role`` allows ``action``: not visible -> NotFound, visible -> AccessDenied."""
    needed = POLICY[action]
    if role >= needed:
        return
    if role < Role.READ:
        raise NotFound(f"{what} does not exist")
    raise AccessDenied(f"{action.replace('.', ': ').replace('_', ' ')} needs the {needed.name.lower()} role on "
                       f"{what}; you have {role.name.lower()}")


def require_dataset(user, dataset: Dataset, action: str) -> None:
    require(user, dataset_role(user, dataset), action, f"dataset {dataset.name!r}")


def require_project(user, project: Project, action: str) -> None:
    require(user, project_role(user, project), action, f"project {project.name!r}")


def projects_open_to(user) -> QuerySet[Project]:
    """The projects ``user`` may add datasets to (or move datasets into)."""
    if not _signed_in(user):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    writers = [r.value for r, role in _ROLE_OF.items() if role >= POLICY["project.add_dataset"]]
    granted = ProjectAccessRule.objects.filter(Q(user=user) | Q(group__user=user), role__in=writers)
    return Project.objects.filter(pk__in=granted.values("project_id"))


def may_move_out(user, dataset: Dataset, role: Role | None = None) -> bool:
    """Admin of the dataset's project (of a dataset outside projects: its creator; superusers everywhere).
    Staff status adds nothing: it opens the admin site, where the project roles apply as everywhere."""
    role = dataset_role(user, dataset) if role is None else role
    return role >= POLICY["dataset.move_out"]


def require_dataset_move(user, dataset: Dataset, target: Project | None) -> None:
    """Moving a dataset takes it out of where it is and puts it somewhere else: the first needs admin on
    the dataset's project (``may_move_out``), the second write on the target project. Leaving it where it
    is needs nothing."""
    if (target.pk if target is not None else None) == dataset.project_id:
        return
    role = dataset_role(user, dataset)
    if not may_move_out(user, dataset, role):
        require(user, role, "dataset.move_out", f"dataset {dataset.name!r}")
    if target is not None:
        if not visible_projects(user).filter(pk=target.pk).exists():
            raise NotFound(f"project {target.pk} does not exist")
        require_project(user, target, "project.add_dataset")


def require_create_in_project(user, project_name: str | None, action: str = "project.add_dataset") -> None:
    """Creating a dataset in an existing project needs write there (an unseen project is not found);
    a new project is created with the caller as its admin."""
    if project_name is None:
        return
    project = Project.objects.filter(name=project_name).first()
    if project is None:
        return
    if not visible_projects(user).filter(pk=project.pk).exists():
        raise NotFound(f"project {project_name!r} does not exist")
    require_project(user, project, action)
