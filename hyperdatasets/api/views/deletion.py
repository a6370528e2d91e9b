from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from hyperdatasets.access import visible_deletion_jobs
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import APIView, CreatedCursorPagination, deletion_job_for
from hyperdatasets.selectors.deletion import deletion_job_out
from hyperdatasets.services.deletion import deletion_job_retry_failed


class DeletionJobListView(APIView):
    @extend_schema(responses=s.paginated(s.DeletionJobOut), operation_id="deletion_jobs_list")
    def get(self, request):
        """Deletion jobs the caller may see, newest first."""
        paginator = CreatedCursorPagination()
        page = paginator.paginate_queryset(visible_deletion_jobs(request.user), request, view=self)
        return paginator.get_paginated_response(s.DeletionJobOut([deletion_job_out(j) for j in page], many=True).data)


class DeletionJobDetailView(APIView):
    @extend_schema(responses=s.DeletionJobOut)
    def get(self, request, job_id):
        """A job's status and progress: totals, per provider, skipped reasons and errors."""
        return Response(s.DeletionJobOut(deletion_job_out(deletion_job_for(request, job_id, "deletion.view"))).data)


class DeletionJobRetryView(APIView):
    @extend_schema(request=None, responses=s.DeletionJobOut)
    def post(self, request, job_id):
        """Give the job's failed objects another round of attempts (after fixing credentials, say)."""
        job = deletion_job_for(request, job_id, "deletion.retry")
        deletion_job_retry_failed(job)
        job.refresh_from_db()
        return Response(s.DeletionJobOut(deletion_job_out(job)).data)
