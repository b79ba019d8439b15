from django.contrib.auth import views as auth_views
from django.urls import path

from yiwang.core.views import home

app_name = "identity"
urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", home, name="register"),
    path("accounts/", home, name="account"),
]
