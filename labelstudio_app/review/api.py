"""REST views of the review: thin, over the same services and selectors as the pages.

Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md).
"""
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.projects.selectors import project_get_for_manager, project_get_for_reviewer
from labelstudio_app.review import exports, reports, selectors, services
from labelstudio_app.review.models import ComparisonRound
from labelstudio_app.review.serializers import (
    CardSerializer,
    FlagSerializer,
    JudgmentInputSerializer,
    JudgmentReceiptSerializer,
    RoundCreateSerializer,
    RoundSerializer,
)


class RoundListApi(generics.ListCreateAPIView):
    """Managers: the project's rounds; POST creates one (from existing candidates, or generating first)."""

    serializer_class = RoundSerializer

    def get_queryset(self):
        project = project_get_for_manager(user=self.request.user, project_id=self.kwargs["project_id"])
        return selectors.round_list_for_project(project=project)

    @extend_schema(request=RoundCreateSerializer, responses={201: RoundSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        s = RoundCreateSerializer(data=request.data, project=project)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        items = selectors.items_select(project=project, task_type=d["task_type"], status=d["status"],
                                       ids=d["item_ids"], sample=d["sample"])
        rnd = services.round_create(project=project, user=request.user, name=d["name"], model_a=d["model_a"],
                                    model_b=d.get("model_b"), items=items, overlap=d["overlap"],
                                    params=d["params"], generate=d["generate"], n_gold=d["n_gold"])
        rnd = selectors.round_get(user=request.user, project_id=project.pk, round_id=rnd.pk)
        return Response(RoundSerializer(rnd).data, status=status.HTTP_201_CREATED)


class RoundDetailApi(generics.RetrieveAPIView):
    serializer_class = RoundSerializer

    def get_object(self):
        return selectors.round_get(user=self.request.user, project_id=self.kwargs["project_id"],
                                   round_id=self.kwargs["round_id"])


class RoundStatsApi(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="The round's statistics (see docs/review.md).")})
    def get(self, request: Request, project_id: int, round_id: int) -> Response:
        rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
        return Response(reports.round_statistics(round=rnd))


class ProjectReviewStatsApi(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="Ratings, win matrix, bias and agreement across rounds.")})
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_manager(user=request.user, project_id=project_id)
        return Response(reports.project_statistics(project=project))


class RoundExportApi(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="JSONL preference pairs: prompt, chosen, rejected, …")})
    def get(self, request: Request, project_id: int, round_id: int) -> StreamingHttpResponse:
        rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
        response = StreamingHttpResponse(exports.preference_pairs(rounds=ComparisonRound.objects.filter(pk=rnd.pk)),
                                         content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="preferences-round-{rnd.pk}.jsonl"'
        return response


class RoundExportFileApi(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="Preference pairs as Parquet (export.parquet) or a "
                                                               "zipped Hugging Face datasets folder (export.hf.zip)")})
    def get(self, request: Request, project_id: int, round_id: int, container: str) -> FileResponse:
        rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
        name = f"preferences-round-{rnd.pk}"
        out = exports.preference_pairs_file(rounds=ComparisonRound.objects.filter(pk=rnd.pk), container=container,
                                            folder=name)
        return FileResponse(out, as_attachment=True, filename=f"{name}.{exports.FILE_EXTENSIONS[container]}")


class ComparisonFlagApi(APIView):
    @extend_schema(request=FlagSerializer, responses={200: OpenApiResponse(description='{"outcome": "replaced" | "withdrawn"}')})
    def post(self, request: Request, project_id: int, round_id: int) -> Response:
        rnd = selectors.round_get(user=request.user, project_id=project_id, round_id=round_id)
        s = FlagSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        comparison = selectors.comparison_get_in_round(round=rnd, comparison_id=s.validated_data["comparison"])
        outcome = services.candidate_exclude(comparison=comparison, side=s.validated_data["side"])
        return Response({"outcome": outcome})


class ReviewNextApi(APIView):
    """Reviewers: the comparison they hold or the next one, leased to them; 204 when nothing is left."""

    @extend_schema(responses={200: CardSerializer, 204: None})
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_reviewer(user=request.user, project_id=project_id)
        comparison = services.comparison_claim_next(project=project, user=request.user)
        if comparison is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CardSerializer(selectors.comparison_card(comparison=comparison)).data)


class ReviewSubmitApi(APIView):
    @extend_schema(request=JudgmentInputSerializer, responses={201: JudgmentReceiptSerializer})
    def post(self, request: Request, project_id: int, public_id: str) -> Response:
        project = project_get_for_reviewer(user=request.user, project_id=project_id)
        comparison = selectors.comparison_get_for_reviewer(project=project, public_id=public_id)
        s = JudgmentInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        scores = {k: v for k, v in d.items() if k.startswith(("left_", "right_"))}
        judgment = services.judgment_submit(comparison=comparison, user=request.user, scores=scores,
                                            preference=d["preference"], comment=d["comment"])
        shown = services.judgment_preference_shown(comparison=comparison, judgment=judgment)
        receipt = {"public_id": comparison.public_id, "preference": shown, "stored": True}
        return Response(JudgmentReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)
