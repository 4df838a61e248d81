from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit


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
