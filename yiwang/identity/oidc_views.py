"""The OpenID Connect endpoints (docs/sso.md): django-oauth-toolkit's views, with the platform's
consent and sign-out pages, the token endpoint in one transaction, and the content security
policy opened for exactly the client address a page's form leads to.

The site's policy says ``form-action 'self'``, and browsers apply it to every redirect a form
submission leads to: the consent form posts here and is answered with a redirect to the
client's registered ``redirect_uri``, which the policy would block. So the consent page (and the
sign-out confirmation) adds to ``form-action`` the origin of the one registered address this
request will be sent to, and nothing else; every other page keeps the strict policy.
"""

import json
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import path, re_path
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import OIDCError

from yiwang.identity import oidc, oidc_services, permissions


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _open_form_action(response, origin: str):
    if origin:
        response._csp_update = {"form-action": [origin]}
    return response


class AuthorizeView(dot_views.AuthorizationView):
    """Sign-in goes through /login (and its two-factor step) like every other page; then the
    consent page names the client, its department and each claim asked for."""

    template_name = "identity/oidc_authorize.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = kwargs.get("application") or self.oauth2_data.get("application")
        client = getattr(application, "oidc_client", None) if application is not None else None
        scopes = kwargs.get("scopes") or self.oauth2_data.get("scopes") or []
        context["client"] = client
        context["claims"] = [label for _claim, label in oidc.requested_claims(scopes)]
        context["acting"] = permissions.acting_enterprise(self.request) if "enterprise" in scopes else None
        context["asks_enterprise"] = "enterprise" in scopes
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        application = context.get("application")
        redirect_uri = context.get("redirect_uri") or ""
        if application is not None and redirect_uri in application.redirect_uris.split():
            _open_form_action(response, _origin(redirect_uri))
        return response

    def post(self, request, *args, **kwargs):
        with transaction.atomic():  # the code, its sign-in row and the audit entry, or nothing
            return super().post(request, *args, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            enterprise = permissions.acting_enterprise(request)
            credentials = {**credentials, "yiwang_enterprise_id": enterprise.pk if enterprise else None}
        else:
            client = oidc_services.client_of(credentials.get("client_id"))
            if client is not None:
                oidc_services.sign_in_denied(client=client, user=request.user)
        return super().create_authorization_response(request, scopes, credentials, allow)


class TokenView(dot_views.TokenView):
    """The code is redeemed, the tokens saved and a replay's tokens revoked in one transaction."""

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().post(request, *args, **kwargs)


class DiscoveryView(dot_views.ConnectDiscoveryInfoView):
    """The discovery document, stating what this provider really accepts."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            {
                "id_token_signing_alg_values_supported": [oidc.SIGNING_ALGORITHM],
                "grant_types_supported": ["authorization_code"],
                "response_modes_supported": ["query"],
                "acr_values_supported": list(oidc.ACR_VALUES),
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "ui_locales_supported": ["zh-CN", "en"],
            }
        )
        data["prompt_values_supported"] = ["none", "login", "consent"]
        response.content = json.dumps(data)
        return response


class LogoutView(dot_views.RPInitiatedLogoutView):
    """RP-initiated logout: the platform asks before it signs the user out, then revokes the
    user's single sign-on tokens (audited) and returns to the client's registered address."""

    template_name = "identity/oidc_logout.html"

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        uri = self.oidc_data.get("post_logout_redirect_uri") or ""
        application = context.get("application")
        if application is not None and uri and application.post_logout_redirect_uri_allowed(uri):
            _open_form_action(response, _origin(uri))
        return response

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        user = self.request.user
        if user.is_authenticated:
            oidc_services.sign_out_everywhere(user=user)
            from yiwang.identity import services

            services.logout_record(user=user)
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)

    def error_response(self, error: OIDCError):
        return self.render_to_response({"error": error}, status=error.status_code)


# Mounted at the site root (config/urls.py) in django-oauth-toolkit's namespace, whose views
# reverse each other by these names. Only what a relying party needs; no client management
# pages (clients are registered in the admin site, per department).
app_name = "oauth2_provider"
urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration$", DiscoveryView.as_view(), name="oidc-connect-discovery-info"
    ),
    path("o/authorize/", AuthorizeView.as_view(), name="authorize"),
    path("o/token/", TokenView.as_view(), name="token"),
    path("o/userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
    path("o/jwks/", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("o/logout/", LogoutView.as_view(), name="rp-initiated-logout"),
]
