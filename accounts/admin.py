import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import user_login
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import InvalidCredentials, LoginThrottled


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_active", "date_joined"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["-date_joined"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "username" in form.changed_data:
            # Property lists and details show the owner's username.
            cache_generations_forget_on_commit(LISTINGS)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, logging in through the API's service (user_login): the same
    failed-login counters and limits, so the admin is no side door for password guessing."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed logins. Try again in %(wait)d seconds.",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = user_login(request=self.request, name=username, password=password)
            except LoginThrottled as exc:
                raise ValidationError(
                    self.error_messages["throttled"],
                    code="throttled",
                    params={"wait": math.ceil(exc.wait or 60)},
                ) from exc
            except InvalidCredentials as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = AdminLoginForm
