"""REST API of the labelling domain: thin views over the same services and selectors as the pages.

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.labelling import selectors, services
from labelstudio_app.labelling.serializers import (
    AnnotationInSerializer,
    AnnotationSerializer,
    NextItemSerializer,
    QaDecisionSerializer,
    QaNextSerializer,
    SchemaSerializer,
)
from labelstudio_app.projects.chat import item_conversation
from labelstudio_app.projects.selectors import (
    project_get_for_annotator,
    project_get_for_manager,
    project_get_for_member,
    project_get_for_reviewer,
)


def _item_out(item) -> dict | None:
    if item is None:
        return None
    return {"id": item.pk, "text": item.text, "task_type": item.task_type,
            "conversation": [{k: t[k] for k in ("speaker", "text", "time", "target")} for t in item_conversation(item)]}


class SchemaApi(APIView):
    """The project's label schema and instructions. Members read it; managers replace it."""

    @extend_schema(responses=SchemaSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_member(user=request.user, project_id=project_id)
        return Response({"label_schema": project.label_schema, "instructions": project.instructions})

    @extend_schema(request=SchemaSerializer, responses=SchemaSerializer)
    def put(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        data = SchemaSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.project_schema_update(project=project, schema=request.data.get("label_schema"),
                                       instructions=data.validated_data.get("instructions"))
        return Response({"label_schema": project.label_schema, "instructions": project.instructions})


class NextItemApi(APIView):
    """Claims the next item for the caller (or returns the one they hold); `item` is null when none is left."""

    @extend_schema(request=None, responses=NextItemSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_annotator(user=request.user, project_id=project_id)
        item = services.item_next_for_annotator(project=project, user=request.user)
        return Response({"item": _item_out(item), "progress": selectors.label_progress(user=request.user,
                                                                                        project=project)})


class AnnotationSubmitApi(APIView):
    """Submits (or edits) the caller's annotation of an item. 400 names each bad field; 409 when the lease ran
    out and the item went to others."""

    @extend_schema(request=AnnotationInSerializer, responses={201: AnnotationSerializer})
    def post(self, request: Request, item_id: int) -> Response:
        item = selectors.item_get_for_annotator(user=request.user, item_id=item_id)
        data = AnnotationInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        annotation = services.annotation_submit(item=item, user=request.user, **data.validated_data)
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)


class SkipApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, item_id: int) -> Response:
        item = selectors.item_get_for_annotator(user=request.user, item_id=item_id)
        services.assignment_skip(item=item, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QaNextApi(APIView):
    """The next annotation waiting for a reviewer, with its item."""

    @extend_schema(responses=QaNextSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_reviewer(user=request.user, project_id=project_id)
        annotation = selectors.annotation_next_for_qa(project=project, reviewer=request.user)
        return Response({
            "annotation": AnnotationSerializer(annotation).data if annotation else None,
            "item": _item_out(annotation.item) if annotation else None,
            "pending": selectors.qa_pending_count(project=project, reviewer=request.user)})


class QaDecisionApi(APIView):
    """accept / fix (with values) / reject an annotation."""

    @extend_schema(request=QaDecisionSerializer, responses=AnnotationSerializer)
    def post(self, request: Request, annotation_id: int) -> Response:
        annotation = selectors.annotation_get_for_reviewer(user=request.user, annotation_id=annotation_id)
        data = QaDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        annotation = services.annotation_review(annotation=annotation, user=request.user, **data.validated_data)
        return Response(AnnotationSerializer(annotation).data)


class DashboardApi(APIView):
    """Progress, agreement per question (kappa / alpha), per-annotator counts, speed, gold accuracy."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        return Response(selectors.dashboard_numbers(project=project))
