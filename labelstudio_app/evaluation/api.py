"""REST API for model versions, the promotion gate and the serving version, generation jobs and candidates:
managers of the project (and admins); anyone else gets 404, as for every manager read (docs/rules.md).

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from labelstudio_app.evaluation import selectors, services
from labelstudio_app.evaluation.gate import gate_verdict
from labelstudio_app.evaluation.serializers import (
    CandidateSerializer,
    GateVerdictSerializer,
    GenerationJobCreateSerializer,
    GenerationJobSerializer,
    ModelVersionCreateSerializer,
    ModelVersionSerializer,
    ModelVersionUpdateSerializer,
    ServingChangeSerializer,
    ServingReasonSerializer,
    ServingSerializer,
)
from labelstudio_app.projects.selectors import project_get_for_manager


class _ProjectMixin:
    def project(self):
        if not hasattr(self, "_project"):
            self._project = project_get_for_manager(user=self.request.user,
                                                              project_id=self.kwargs["project_id"])
        return self._project

    def parent_get(self, parent_id):
        if parent_id is None:
            return None
        return selectors.model_version_get_for_user(user=self.request.user, project=self.project(),
                                                    model_version_id=parent_id)


class ModelVersionListApi(_ProjectMixin, generics.ListAPIView):
    serializer_class = ModelVersionSerializer

    def get_queryset(self):
        return selectors.model_version_list_for_user(user=self.request.user, project=self.project())

    @extend_schema(request=ModelVersionCreateSerializer, responses=ModelVersionSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        s = ModelVersionCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        d["parent"] = self.parent_get(d.pop("parent"))
        mv = services.model_version_create(project=self.project(), user=request.user, **d)
        return Response(ModelVersionSerializer(mv).data, status=status.HTTP_201_CREATED)


class ModelVersionDetailApi(_ProjectMixin, generics.RetrieveAPIView):
    serializer_class = ModelVersionSerializer

    def get_object(self):
        return selectors.model_version_get_for_user(user=self.request.user, project=self.project(),
                                                    model_version_id=self.kwargs["model_version_id"])

    @extend_schema(request=ModelVersionUpdateSerializer, responses=ModelVersionSerializer)
    def patch(self, request: Request, project_id: int, model_version_id: int) -> Response:
        mv = self.get_object()
        s = ModelVersionUpdateSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        d = dict(s.validated_data)
        if "parent" in d:
            d["parent"] = self.parent_get(d["parent"])
        mv = services.model_version_update(model_version=mv, user=request.user, **d)
        return Response(ModelVersionSerializer(mv).data)

    def delete(self, request: Request, project_id: int, model_version_id: int) -> Response:
        services.model_version_delete(model_version=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class _VersionMixin(_ProjectMixin):
    def version(self):
        return selectors.model_version_get_for_user(user=self.request.user, project=self.project(),
                                                    model_version_id=self.kwargs["model_version_id"])


class ModelVersionGateApi(_VersionMixin, generics.GenericAPIView):
    serializer_class = GateVerdictSerializer

    def get(self, request: Request, project_id: int, model_version_id: int) -> Response:
        return Response(GateVerdictSerializer(gate_verdict(model_version=self.version())).data)


class ModelVersionPromoteApi(_VersionMixin, generics.GenericAPIView):
    """Promote through the gate: 409 naming the failed checks when it does not pass."""

    serializer_class = ServingChangeSerializer

    @extend_schema(request=None, responses={201: ServingChangeSerializer})
    def post(self, request: Request, project_id: int, model_version_id: int) -> Response:
        change = services.serving_promote(model_version=self.version(), user=request.user)
        return Response(ServingChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class ModelVersionForceApi(_VersionMixin, generics.GenericAPIView):
    """Promote past the gate; the reason is required and recorded with who and when."""

    serializer_class = ServingChangeSerializer

    @extend_schema(request=ServingReasonSerializer, responses={201: ServingChangeSerializer})
    def post(self, request: Request, project_id: int, model_version_id: int) -> Response:
        s = ServingReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        change = services.serving_promote(model_version=self.version(), user=request.user, force=True,
                                          reason=s.validated_data["reason"])
        return Response(ServingChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class ServingApi(_ProjectMixin, generics.GenericAPIView):
    """The project's serving version (the alias clients resolve) and its history, newest first."""

    serializer_class = ServingSerializer

    def get(self, request: Request, project_id: int) -> Response:
        history = list(selectors.serving_history_for_user(user=request.user, project=self.project())[:100])
        change = history[0] if history else None
        return Response(ServingSerializer({"serving": change.model_version if change else None, "change": change,
                                           "history": history}).data)


class ServingRollbackApi(_ProjectMixin, generics.GenericAPIView):
    """Back to the version that served before the current one; 409 when there is none."""

    serializer_class = ServingChangeSerializer

    @extend_schema(request=ServingReasonSerializer, responses={201: ServingChangeSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        s = ServingReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        change = services.serving_rollback(project=self.project(), user=request.user,
                                           reason=s.validated_data["reason"])
        return Response(ServingChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class GenerationJobListApi(_ProjectMixin, generics.ListAPIView):
    serializer_class = GenerationJobSerializer

    def get_queryset(self):
        return selectors.generation_job_list_for_user(user=self.request.user, project=self.project())

    @extend_schema(request=GenerationJobCreateSerializer, responses=GenerationJobSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        s = GenerationJobCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        job = services.generation_job_create(
            project=self.project(), user=request.user, model_versions=d["model_version_ids"],
            items=d.get("item_ids") or d.get("item_filter"), n_samples=d["n_samples"], params=d["params"],
            batch_size=d.get("batch_size"))
        return Response(GenerationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GenerationJobDetailApi(_ProjectMixin, generics.RetrieveAPIView):
    serializer_class = GenerationJobSerializer

    def get_object(self):
        return selectors.generation_job_get_for_user(user=self.request.user, project=self.project(),
                                                     job_id=self.kwargs["job_id"])


class ItemCandidatesApi(_ProjectMixin, generics.ListAPIView):
    serializer_class = CandidateSerializer

    def get_queryset(self):
        item = selectors.item_get_for_manager(user=self.request.user, project=self.project(),
                                              item_id=self.kwargs["item_id"])
        return selectors.candidate_list_for_item(user=self.request.user, item=item)
