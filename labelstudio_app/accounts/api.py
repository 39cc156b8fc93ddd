"""Thin DRF views: no try/except for service errors; core.api_errors answers them in one JSON shape (docs/rules.md)."""
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from labelstudio_app.accounts.throttle import WINDOW_SECONDS, client_ip, login_allowed, login_failed
from labelstudio_app.accounts.tokens import token_get_or_create, token_revoke, token_rotate

TokenOut = inline_serializer("TokenOut", {"token": serializers.CharField()})


class TokenApi(ObtainAuthToken):
    """Exchange a username and password for an API token (throttled like the login page)."""

    throttle_classes = []

    @extend_schema(responses=TokenOut)
    def post(self, request, *args, **kwargs):
        username, ip = str(request.data.get("username", "")), client_ip(request)
        if not login_allowed(username=username, ip=ip):
            raise Throttled(wait=WINDOW_SECONDS, detail=_("Too many failed logins. Request was throttled."))
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            login_failed(username=username, ip=ip)
            raise ValidationError(serializer.errors)
        token = token_get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class TokenRotateApi(APIView):
    """Replace the caller's API token with a new one; the old one stops working at once."""

    @extend_schema(request=None, responses=TokenOut)
    def post(self, request):
        return Response({"token": token_rotate(user=request.user).key})


class TokenRevokeApi(APIView):
    """Delete the caller's API token (log out every script that uses it)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
