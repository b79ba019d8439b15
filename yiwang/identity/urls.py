from django.urls import path

from yiwang.identity import views

app_name = "identity"
urlpatterns = [
    path("login", views.login_view, name="login"),
    path("login/code", views.login_totp_view, name="login_totp"),
    path("logout", views.logout_view, name="logout"),
    path("register", views.register_view, name="register"),
    path("account", views.account_view, name="account"),
    path("account/act-as", views.act_as_view, name="act_as"),
    path("account/password", views.password_change_view, name="password_change"),
    path("account/two-factor", views.two_factor_view, name="two_factor"),
    path("account/verify", views.verify_view, name="verify"),
    path("account/enterprises/new", views.enterprise_register_view, name="enterprise_register"),
    path("account/enterprises/<int:pk>/delegate", views.delegation_new_view, name="delegation_new"),
    path("account/delegations/<int:pk>/revoke", views.delegation_revoke_view, name="delegation_revoke"),
    path("officials/verify-identity", views.verify_in_person_view, name="verify_in_person"),
    path("officials", views.officials_view, name="officials"),
    path("officials/<int:pk>/<slug:action>", views.official_roles_view, name="official_roles"),
]
