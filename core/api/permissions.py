from rest_framework import permissions


class IsOwnerOrReadOnly(permissions.BasePermission):
    """Anyone may read; only the object's owner may change it (403 for anyone else)."""

    message = "Only the owner can change this."
    owner_field = "owner_id"

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return getattr(obj, self.owner_field) == request.user.pk
