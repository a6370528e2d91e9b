"""Writes of projects."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from hyperdatasets.exceptions import AlreadyExists, InvalidInput, StateConflict
from hyperdatasets.models import AccessRole, Project, ProjectAccessRule
from hyperdatasets.validation import clean_name, clean_text


def _name_taken(name: str) -> AlreadyExists:
    # Project names are unique on the server, and the project holding one may be invisible to the caller:
    # the refusal neither confirms nor denies that a project of that name exists.
    return AlreadyExists(f"project name {name!r} is not available; choose another",
                         details={"name": ["is not available"]})


def project_create(*, name: str, description: str = "", user=None, raise_if_exists: bool = False) -> Project:
    """Create a project; an existing name returns that project unless ``raise_if_exists``."""
    name = clean_name("project_name", name)
    description = clean_text("description", description)
    existing = Project.objects.filter(name=name).first()
    if existing is not None:
        if raise_if_exists:
            raise _name_taken(name)
        return existing
    try:
        with transaction.atomic():
            project = Project.objects.create(name=name, description=description, created_by=_user_or_none(user))
            if project.created_by is not None:
                ProjectAccessRule.objects.create(project=project, user=project.created_by, role=AccessRole.ADMIN)
            return project
    except IntegrityError:
        # Lost a race with a concurrent create of the same name.
        if raise_if_exists:
            raise _name_taken(name) from None
        return Project.objects.get(name=name)


def _user_or_none(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def project_update(project: Project, *, name: str | None = None, description: str | None = None) -> Project:
    fields = {}
    if name is not None:
        fields["name"] = clean_name("project_name", name)
    if description is not None:
        fields["description"] = clean_text("description", description)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if "name" in fields and Project.objects.filter(name=fields["name"]).exclude(pk=locked.pk).exists():
            raise _name_taken(fields["name"])
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.save()
        return locked


def project_rule_set(project: Project, *, role: str, user=None, group=None) -> ProjectAccessRule:
    """Grant (or change) a user's or a group's role on a project."""
    if role not in AccessRole.values:
        raise InvalidInput.for_field("role", f"must be one of {', '.join(AccessRole.values)}")
    if (user is None) == (group is None):
        raise InvalidInput("give a user or a group", details={"user": ["give a user or a group, not both"]})
    rule, _created = ProjectAccessRule.objects.update_or_create(
        project=project, user=user, group=group, defaults={"role": role})
    return rule


def project_rule_delete(rule: ProjectAccessRule) -> None:
    with transaction.atomic():
        admins = ProjectAccessRule.objects.filter(project=rule.project, role=AccessRole.ADMIN)
        if rule.role == AccessRole.ADMIN and admins.count() == 1:
            raise StateConflict(f"the last admin rule of project {rule.project.name!r} cannot be removed")
        rule.delete()
