from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.selectors import user_get_by_login_name


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the email, both matched ignoring case.

    ModelBackend's other behaviour is kept: inactive users are refused, an unknown user still
    costs one password hash (so timing does not reveal which accounts exist), and a hash made
    with an older hasher is upgraded on success."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = user_get_by_login_name(name=username)
        if user is None:
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
