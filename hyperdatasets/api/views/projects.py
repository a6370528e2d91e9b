from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from hyperdatasets.access import visible_projects
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import APIView, NameCursorPagination, paginate, parsed, project_for
from hyperdatasets.exceptions import InvalidInput, NotFound
from hyperdatasets.models import ProjectAccessRule
from hyperdatasets.services.projects import project_create, project_rule_delete, project_rule_set


class ProjectListView(APIView):
    @extend_schema(responses=s.paginated(s.ProjectOut), operation_id="projects_list")
    def get(self, request):
        projects = visible_projects(request.user).select_related("created_by")
        return paginate(self, request, projects, NameCursorPagination, s.ProjectOut)

    @extend_schema(request=s.ProjectIn, responses={201: s.ProjectOut})
    def post(self, request):
        data = parsed(s.ProjectIn, request.data)
        project = project_create(name=data["name"], description=data.get("description", ""), user=request.user,
                                 raise_if_exists=True)
        return Response(s.ProjectOut(project).data, status=201)


class ProjectDetailView(APIView):
    @extend_schema(responses=s.ProjectOut)
    def get(self, request, project_id):
        return Response(s.ProjectOut(project_for(request, project_id, "project.view")).data)


class ProjectRuleListView(APIView):
    @extend_schema(responses=s.RuleOut(many=True), operation_id="projects_rules_list")
    def get(self, request, project_id):
        project = project_for(request, project_id, "project.view")
        rules = ProjectAccessRule.objects.filter(project=project).select_related("user", "group")
        return Response(s.RuleOut(rules, many=True).data)

    @extend_schema(request=s.RuleIn, responses={201: s.RuleOut})
    def post(self, request, project_id):
        project = project_for(request, project_id, "project.edit_rules")
        data = parsed(s.RuleIn, request.data)
        user = group = None
        if "user" in data:
            user = get_user_model().objects.filter(username=data["user"]).first()
            if user is None:
                raise NotFound(f"user: no user named {data['user']!r}", details={"user": ["no such user"]})
        else:
            group = Group.objects.filter(name=data["group"]).first()
            if group is None:
                raise NotFound(f"group: no group named {data['group']!r}", details={"group": ["no such group"]})
        rule = project_rule_set(project, role=data["role"], user=user, group=group)
        return Response(s.RuleOut(rule).data, status=201)


class ProjectRuleDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, project_id, rule_id):
        project = project_for(request, project_id, "project.edit_rules")
        rule = ProjectAccessRule.objects.filter(project=project, pk=_rule_id(rule_id)).first()
        if rule is None:
            raise NotFound(f"rule {rule_id} does not exist in project {project.name!r}")
        project_rule_delete(rule)
        return Response(status=204)


def _rule_id(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidInput.for_field("rule_id", "must be an integer") from None


