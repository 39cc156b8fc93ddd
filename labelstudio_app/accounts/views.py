from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts.throttle import login_allowed, login_failed


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if not login_allowed(ip=ip):
            raise forms.ValidationError(_("Too many failed logins. Wait a minute and try again."), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            login_failed(ip=ip)
            raise


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
