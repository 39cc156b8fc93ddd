"""REST API for snapshots and training runs: thin, the same services and selectors as the pages.

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.jobs.services import job_cancel
from labelstudio_app.projects.selectors import project_get_for_admin, project_get_for_manager
from labelstudio_app.training import selectors, services
from labelstudio_app.training.hyperparams import DEFAULTS, HYPERPARAM_FIELDS
from labelstudio_app.training.serializers import (
    SnapshotCreateSerializer,
    SnapshotSerializer,
    TrainingRunCreateSerializer,
    TrainingRunSerializer,
)


class SnapshotListApi(generics.ListAPIView):
    serializer_class = SnapshotSerializer

    def get_queryset(self):
        return selectors.snapshot_list_for_project(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=SnapshotCreateSerializer, responses={201: SnapshotSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        data = SnapshotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tok_id = data.validated_data.get("tokenizer_version")
        tok = get_object_or_404(ModelVersion, project=project, pk=tok_id) if tok_id else None
        snapshot = services.snapshot_create(project=project, user=request.user, name=data.validated_data["name"],
                                            recipe=data.validated_data.get("recipe"), tokenizer_version=tok)
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


class SnapshotDetailApi(generics.RetrieveAPIView):
    serializer_class = SnapshotSerializer

    def get_object(self):
        return selectors.snapshot_get(user=self.request.user, **self.kwargs)


class SnapshotDownloadApi(APIView):
    @extend_schema(responses={(200, "application/jsonl"): OpenApiTypes.BINARY})
    def get(self, request: Request, project_id: int, snapshot_id: int):
        snapshot = selectors.snapshot_get(user=request.user, project_id=project_id, snapshot_id=snapshot_id)
        path = services.snapshot_file(snapshot)
        if not path.exists():
            raise NotFound("The snapshot file is missing.")
        response = FileResponse(open(path, "rb"), as_attachment=True, content_type="application/jsonl",
                                filename=f"snapshot-{snapshot.pk}-{snapshot.format}-{snapshot.sha256[:12]}.jsonl")
        response["X-Content-SHA256"] = snapshot.sha256
        return response


class TrainingHyperparamsApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        """Defaults, help text and bounds of every hyper-parameter."""
        return Response({name: {"default": DEFAULTS[name], "type": f.type.__name__, **f.metadata}
                         for name, f in HYPERPARAM_FIELDS.items()})


class TrainingRunListApi(generics.ListAPIView):
    serializer_class = TrainingRunSerializer

    def get_queryset(self):
        return selectors.training_run_list_for_project(user=self.request.user, project_id=self.kwargs["project_id"])

    @extend_schema(request=TrainingRunCreateSerializer, responses={201: TrainingRunSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        """Admins only: queue a LoRA fine-tune."""
        project = project_get_for_admin(user=request.user, project_id=project_id)
        data = TrainingRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        base = ModelVersion.objects.filter(project=project, pk=data.validated_data["base_version"]).first()
        snapshot = project.snapshots.filter(pk=data.validated_data["snapshot"]).first()
        if base is None or snapshot is None:
            raise serializers.ValidationError({("base_version" if base is None else "snapshot"):
                                               ["No such object in this project."]})
        run = services.training_run_create(project=project, user=request.user, base_version=base,
                                           snapshot=snapshot, hyperparams=data.validated_data.get("hyperparams"),
                                           save_merged=data.validated_data["save_merged"],
                                           old_data_fraction=data.validated_data["old_data_fraction"],
                                           heldout_scoring=data.validated_data["heldout_scoring"])
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailApi(generics.RetrieveAPIView):
    """The run, plus `heldout_report`: base vs new version on the held-out items, from the automatic held-out
    audit (accuracy, macro-F1, majority baseline, difference with its 95% interval, McNemar); null until then."""

    serializer_class = TrainingRunSerializer

    def get_object(self):
        return selectors.training_run_get(user=self.request.user, **self.kwargs)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        run = self.get_object()
        report = selectors.training_run_heldout_report(run=run)
        if report is not None:
            report = {**report, "audit": report["audit"].pk}
        return Response({**TrainingRunSerializer(run).data, "heldout_report": report})


class TrainingRunCancelApi(APIView):
    @extend_schema(request=None, responses={202: TrainingRunSerializer})
    def post(self, request: Request, project_id: int, run_id: int) -> Response:
        project_get_for_admin(user=request.user, project_id=project_id)
        run = selectors.training_run_get(user=request.user, project_id=project_id, run_id=run_id)
        job_cancel(job=run.job)
        run.job.refresh_from_db()
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
