"""REST API for projects, members, items, imports and exports: thin views over the same services and
selectors as the pages.

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
import shutil
import tempfile
from typing import BinaryIO

from django.conf import settings
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.accounts.throttle import ApiBulkThrottle
from labelstudio_app.jobs.serializers import JobSerializer
from labelstudio_app.projects import selectors, services
from labelstudio_app.projects.exports import (
    EXPORT_FORMATS,
    SCOPES,
    content_type,
    export_chunks,
    export_filename,
)
from labelstudio_app.projects.serializers import (
    ExportSerializer,
    ImportBulkResultSerializer,
    ImportPreviewSerializer,
    ImportSerializer,
    ItemBlindSerializer,
    ItemPageSerializer,
    ItemSerializer,
    MemberAddSerializer,
    MembershipSerializer,
    ProjectCountsSerializer,
    ProjectSerializer,
)


class ProjectListApi(generics.ListCreateAPIView):
    """Projects the user belongs to; staff create (the creator becomes the project's manager)."""

    serializer_class = ProjectSerializer

    def get_queryset(self):
        return selectors.project_list_for_user(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.project_create(user=self.request.user, **data)


class ProjectDetailApi(generics.RetrieveUpdateAPIView):
    """Any member reads; managers update."""

    serializer_class = ProjectSerializer

    def get_object(self):
        read = self.request.method in ("GET", "HEAD", "OPTIONS")
        get = selectors.project_get_for_member if read else selectors.project_get_for_manager
        return get(user=self.request.user, project_id=self.kwargs["project_id"])

    def perform_update(self, serializer):
        serializer.instance = services.project_update(project=serializer.instance, **serializer.validated_data)


class ProjectCountsApi(APIView):
    @extend_schema(responses=ProjectCountsSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_member(user=request.user, project_id=project_id)
        return Response(ProjectCountsSerializer(selectors.project_counts(project=project)).data)


class MemberListApi(APIView):
    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        return Response(MembershipSerializer(selectors.membership_list(project=project), many=True).data)

    @extend_schema(request=MemberAddSerializer,
                   responses={202: inline_serializer("MemberAddOut", {"detail": serializers.CharField()})})
    def post(self, request: Request, project_id: int) -> Response:
        """The same answer whether the username exists or not; GET the list to see the members."""
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        s = MemberAddSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        services.member_add(project=project, **s.validated_data)
        return Response({"detail": services.member_add_message(**s.validated_data)}, status=status.HTTP_202_ACCEPTED)


class MemberDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int, membership_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        services.member_remove(membership=selectors.membership_get(project=project, membership_id=membership_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemListApi(APIView):
    """A keyset page of the project's items: follow `next_after` (?after=) and `prev_before` (?before=); any
    page costs what the first does. Rows are written straight from the page's dicts: the serializers below only
    document the shape."""

    @extend_schema(parameters=[
        OpenApiParameter("status", str, enum=["open", "labelled", "done"]), OpenApiParameter("task_type", str),
        OpenApiParameter("q", str, description="Substring search in the text (CJK works)."),
        OpenApiParameter("sort", str, enum=["id", "-id"]),
        OpenApiParameter("after", int, description="The cursor of the next page: a page's `next_after`."),
        OpenApiParameter("before", int, description="The cursor of the previous page: a page's `prev_before` "
                                                    "(ignored with `after`)."),
        OpenApiParameter("limit", int, description="1–500, default 50."),
    ], responses=ItemPageSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        g = request.query_params
        try:
            after = int(g["after"]) if g.get("after") else None
            before = int(g["before"]) if g.get("before") else None
            limit = min(max(int(g.get("limit", 50)), 1), 500)
        except ValueError:
            raise ValidationError({"detail": _("after, before and limit must be integers")}) from None
        page = selectors.item_list_for_user(user=request.user, project_id=project_id, status=g.get("status", ""),
                                            task_type=g.get("task_type", ""), q=g.get("q", "").strip(),
                                            sort=g.get("sort", "id"), after=after, before=before, limit=limit)
        return Response({"results": page.items, "next_after": page.next_after, "prev_before": page.prev_before})


class ItemDetailApi(generics.RetrieveAPIView):
    """Managers get the whole item; reviewers get it without the answer key (ItemBlindSerializer)."""

    serializer_class = ItemSerializer

    def get_object(self):
        return selectors.item_get_for_user(user=self.request.user, project_id=self.kwargs["project_id"],
                                           item_id=self.kwargs["item_id"])

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        answer_key = selectors.item_answer_key_visible(user=request.user, project=item.project)
        return Response((ItemSerializer if answer_key else ItemBlindSerializer)(item).data)


class ImportCreateApi(APIView):
    """Upload a file (multipart); the import runs as a job. Poll /api/jobs/<id>/ for progress and errors."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportSerializer}, responses={202: JobSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        s = ImportSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        job = services.import_create(project=project, user=request.user, upload=s.validated_data["file"],
                                     fmt=s.validated_data["format"], options=s.validated_data["options"])
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class BulkBodyParser(BaseParser):
    """Keeps a bulk import body as it came (in memory up to BULK_SYNC_MB, then in a temporary file): the import
    parsers read the JSON list or the JSONL themselves, so their errors carry line numbers."""

    media_type = "application/json"
    container = "json"

    def parse(self, stream, media_type=None, parser_context=None) -> tuple[str, BinaryIO]:
        body = tempfile.SpooledTemporaryFile(max_size=settings.BULK_SYNC_MB * 1024 * 1024)
        shutil.copyfileobj(stream, body, 1 << 20)
        body.seek(0)
        return self.container, body


class JsonlBodyParser(BulkBodyParser):
    media_type = "application/x-ndjson"
    container = "jsonl"


class JsonlAltBodyParser(JsonlBodyParser):
    media_type = "application/jsonl"


BULK_EXAMPLE = [{"id": "q1", "text": "怎么把 mmpose 部署到 TX2？", "task_type": "deployment / edge",
                 "answers": [{"model": "a", "text": "…"}, {"model": "b", "text": "…"}]}]


class ImportBulkApi(APIView):
    """Store a batch of records sent as the body: a JSON list (`application/json`) or JSON Lines
    (`application/x-ndjson` or `application/jsonl`), in any record format of the file import but Label Studio's
    and chat logs (`fmt`; `auto` detects it). The same parsers check every record: one bad record refuses the
    whole batch (400, each bad line under `errors["line N"]`) and nothing is stored. Up to
    FLYWHEEL_BULK_SYNC_ITEMS records (5,000) and FLYWHEEL_BULK_SYNC_MB (32) the batch is stored in one
    transaction before the answer (201: the new ids in the body's order); a larger one (up to
    FLYWHEEL_MAX_UPLOAD_MB) is imported by a job that starts at once (202 with the job; poll /api/jobs/<id>/).
    Send an `Idempotency-Key` header to make retries safe: the same batch under the same key answers the first
    result again (`replayed: true`) and stores nothing; another batch under a used key is a 409."""

    parser_classes = [BulkBodyParser, JsonlBodyParser, JsonlAltBodyParser]
    throttle_classes = [ApiBulkThrottle]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}, "example": BULK_EXAMPLE},
                 "application/x-ndjson": {"type": "string", "description": "One JSON record a line."}},
        parameters=[
            OpenApiParameter("fmt", str, enum=list(services.BULK_FORMATS),
                             description="The records' format; default auto. (Not `format`: DRF reserves it.)"),
            OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER,
                             description="A key of yours for this batch (1–200 printable ASCII characters), kept "
                                         "per project: sending the same batch again stores nothing."),
        ],
        responses={201: ImportBulkResultSerializer, 202: ImportBulkResultSerializer,
                   400: OpenApiResponse(description="Bad records (each under errors['line N']), an empty body, "
                                                    "an unknown format or key; nothing stored."),
                   409: OpenApiResponse(description="The Idempotency-Key was used for another batch."),
                   413: OpenApiResponse(description="The body is over FLYWHEEL_MAX_UPLOAD_MB."),
                   415: OpenApiResponse(description="Another content type."),
                   429: OpenApiResponse(description="Over FLYWHEEL_API_BULK_RATE batches.")},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        if not isinstance(request.data, tuple):  # no body at all: DRF hands an empty dict
            raise ValidationError({"detail": _("The request body is empty.")})
        container, body = request.data
        with body:
            result = services.items_bulk_import(project=project, user=request.user, body=body, container=container,
                                                fmt=request.query_params.get("fmt", "auto"),
                                                key=request.headers.get("Idempotency-Key", ""))
        code = status.HTTP_202_ACCEPTED if result["job"] is not None else status.HTTP_201_CREATED
        return Response(ImportBulkResultSerializer(result).data, status=code)


class ImportPreviewApi(APIView):
    """Parse the first ~2 MB of a file: the first 20 rows as they would be stored, counts kept and dropped
    by each rule, and the errors found. Nothing is stored."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportSerializer}, responses=ImportPreviewSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        s = ImportSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        options = services.import_options_clean(fmt=s.validated_data["format"], options=s.validated_data["options"],
                                                schema=project.label_schema)
        saved = services.import_upload_save(project=project, upload=s.validated_data["file"])
        path = services.import_upload_path(project=project, token=saved["token"])
        preview = services.import_preview(path=path, fmt=s.validated_data["format"], options=options,
                                          schema=project.label_schema)
        services.import_upload_delete(path=str(path))
        return Response(preview)


class ExportCreateApi(APIView):
    """Start an export job; when it succeeds, download its file from api-export-download."""

    @extend_schema(request=ExportSerializer, responses={202: JobSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        s = ExportSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        job = services.export_start(project=project, user=request.user, fmt=s.validated_data["format"],
                                    scope=s.validated_data["scope"], container=s.validated_data["container"])
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportStreamApi(APIView):
    """Stream the export directly (constant memory, any size)."""

    @extend_schema(parameters=[OpenApiParameter("fmt", str, enum=list(EXPORT_FORMATS), description="Default jsonl. (Not `format`: DRF reserves it.)"),
                               OpenApiParameter("scope", str, enum=list(SCOPES))],
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, project_id: int):
        project = selectors.project_get_for_manager(user=request.user, project_id=project_id)
        g = request.query_params
        s = ExportSerializer(data={"format": g.get("fmt", "jsonl"), "scope": g.get("scope", "labelled")})
        s.is_valid(raise_exception=True)
        fmt, scope = s.validated_data["format"], s.validated_data["scope"]
        services.export_template_check(project=project, fmt=fmt)
        chunks = (c.encode("utf-8") for c in export_chunks(project=project, fmt=fmt, scope=scope))
        response = StreamingHttpResponse(chunks, content_type=content_type(fmt))
        response["Content-Disposition"] = f'attachment; filename="{export_filename(project=project, fmt=fmt)}"'
        return response


class ExportDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, project_id: int, job_id: int):
        job = selectors.export_job_get_for_user(user=request.user, project_id=project_id, job_id=job_id)
        path = services.export_file_path(job=job)
        if path is None:
            raise Http404("This export has no file (not finished, or removed).")
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
