"""API tokens: one per user, with an optional lifetime (FLYWHEEL_TOKEN_TTL_DAYS), revoked and rotated by
their owner, and dropped whenever the owner's password changes."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_is_expired(*, token: Token) -> bool:
    days = settings.TOKEN_TTL_DAYS
    return bool(days) and token.created < timezone.now() - timedelta(days=days)


@transaction.atomic
def token_get_or_create(*, user) -> Token:
    """The user's live token; an expired one is replaced by a new one."""
    token, created = Token.objects.select_for_update().get_or_create(user=user)
    if not created and token_is_expired(token=token):
        return token_rotate(user=user)
    return token


@transaction.atomic
def token_rotate(*, user) -> Token:
    """Replaces the user's token: the old key stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(*, user) -> bool:
    """Deletes the user's token; returns whether there was one."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return bool(deleted)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication that refuses a token past its lifetime (401)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token=token):
            raise AuthenticationFailed(_("Token has expired. Ask for a new one."))
        return user, token


class RevokeTokensOnPasswordChange:
    """Django calls `password_changed` on every password validator whenever a password is set and saved
    (password forms, the admin, `changepassword`), so this is the one place that sees every change."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            token_revoke(user=user)

    def get_help_text(self):
        return ""
