from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q


class AccessRole(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"


class ProjectAccessRule(models.Model):
    """Grants a user or a group a role on a project and the datasets in it."""

    project = models.ForeignKey("hyperdatasets.Project", on_delete=models.CASCADE, related_name="rules")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="project_rules")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="project_rules")
    role = models.CharField(max_length=8, choices=AccessRole.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="access_rule_user_xor_group",
            ),
            models.UniqueConstraint(fields=["project", "user"], name="access_rule_unique_user"),
            models.UniqueConstraint(fields=["project", "group"], name="access_rule_unique_group"),
        ]
        indexes = [models.Index(fields=["user", "project"], name="access_rule_by_user")]

    def __str__(self) -> str:
        who = f"user {self.user}" if self.user_id else f"group {self.group}"
        return f"{self.project}: {who} {self.role}"
