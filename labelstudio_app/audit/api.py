"""REST for the label audit: thin, over the same services and selectors as the pages.

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.audit import exports, selectors, services
from labelstudio_app.audit.serializers import (
    AuditPredictionSerializer,
    AuditRunCreateSerializer,
    AuditRunSerializer,
    DisagreementSerializer,
    RelabelResultSerializer,
    ReportSerializer,
)
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.selectors import project_get_for_manager


class AuditRunListApi(generics.ListAPIView):
    """Runs of a project (GET) or a new run (POST), which starts the audit job."""

    serializer_class = AuditRunSerializer

    def get_queryset(self):
        return selectors.audit_run_list_for_project(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=AuditRunCreateSerializer, responses={201: AuditRunSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        body = AuditRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        ids = data.pop("model_versions")
        versions = list(ModelVersion.objects.filter(project=project, pk__in=ids))
        missing = sorted(set(ids) - {mv.pk for mv in versions})
        if missing:
            raise ApiValidationError({"model_versions": [f"no model version {i} in this project" for i in missing]})
        snapshot_id = data.pop("snapshot")
        data["snapshot"] = selectors.snapshot_list_for_audit(project=project).filter(pk=snapshot_id).first()
        if snapshot_id is not None and data["snapshot"] is None:
            raise ApiValidationError({"snapshot": [_("no snapshot %(id)s in this project") % {"id": snapshot_id}]})
        run = services.audit_run_create(project=project, user=request.user, model_versions=versions, **data)
        return Response(AuditRunSerializer(run).data, status=status.HTTP_201_CREATED)


class AuditRunDetailApi(generics.RetrieveAPIView):
    serializer_class = AuditRunSerializer

    def get_object(self):
        return selectors.audit_run_get(user=self.request.user, run_id=self.kwargs["run_id"])


class AuditRunMetricsApi(APIView):
    @extend_schema(responses=ReportSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.audit_run_get(user=request.user, run_id=run_id)
        return Response(exports.report_json(selectors.audit_report(run=run)))


class AuditRunDisagreementsApi(APIView):
    @extend_schema(responses=DisagreementSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.audit_run_get(user=request.user, run_id=run_id)
        return Response(exports.disagreements_json(selectors.audit_report(run=run)))


class AuditRunPredictionsApi(generics.ListAPIView):
    serializer_class = AuditPredictionSerializer

    def get_queryset(self):
        run = selectors.audit_run_get(user=self.request.user, run_id=self.kwargs["run_id"])
        return selectors.audit_prediction_list(run=run)


class AuditRunRelabelApi(APIView):
    @extend_schema(request=None, responses=RelabelResultSerializer)
    def post(self, request: Request, run_id: int) -> Response:
        run = selectors.audit_run_get(user=request.user, run_id=run_id)
        return Response(services.audit_disagreements_send(run=run, user=request.user))
