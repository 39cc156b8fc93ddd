from django.contrib import admin

from labelstudio_app.accounts.models import Membership
from labelstudio_app.accounts.views import ThrottledAdminAuthenticationForm


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "project__name"]

# The admin's login form counts failures in the same shared throttle as the login page.
admin.site.login_form = ThrottledAdminAuthenticationForm
