"""Log-in and log-out under the plain names settings.LOGIN_URL and LOGOUT_REDIRECT_URL use."""

from django.urls import path

from telora.ui.views import auth

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
]
