from django.urls import path

from accounts import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="register"),
    path("login/", apis.LoginApi.as_view(), name="login"),
    path("logout/", apis.LogoutApi.as_view(), name="logout"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("profile/", apis.ProfileApi.as_view(), name="profile"),
    path("password/", apis.PasswordChangeApi.as_view(), name="password-change"),
]
