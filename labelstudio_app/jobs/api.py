"""Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md)."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.jobs import selectors, services
from labelstudio_app.jobs.serializers import JobSerializer


class JobListApi(generics.ListAPIView):
    serializer_class = JobSerializer

    def get_queryset(self):
        return selectors.job_list_for_user(user=self.request.user)


class JobDetailApi(generics.RetrieveAPIView):
    serializer_class = JobSerializer

    def get_object(self):
        return selectors.job_get_for_user(user=self.request.user, job_id=self.kwargs["job_id"])


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        job = selectors.job_get_for_cancel(user=request.user, job_id=job_id)
        services.job_cancel(job=job)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
