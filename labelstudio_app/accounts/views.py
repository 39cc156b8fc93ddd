from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts.throttle import client_ip, login_allowed, login_failed


class ThrottledLoginMixin:
    """Refuses the login while this username from this address (or this address) is throttled."""

    def clean(self):
        ip = client_ip(self.request) if self.request else ""
        username = str(self.data.get("username", ""))
        if not login_allowed(username=username, ip=ip):
            raise forms.ValidationError(_("Too many failed logins. Wait a minute and try again."), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            login_failed(username=username, ip=ip)
            raise


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
