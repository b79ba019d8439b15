"""The OpenID Connect provider's rules, on django-oauth-toolkit (docs/sso.md).

What this changes in django-oauth-toolkit 3.4's defaults, and why:

- PKCE is required and only ``S256`` is accepted (a missing method means ``plain`` in RFC 7636,
  so it is refused too); discovery does not offer ``plain``.
- A redirect URI matches only a registered one, character for character (OIDC Core §3.1.2.1);
  at the token endpoint a ``redirect_uri`` other than the authorization request's is
  ``invalid_grant`` (RFC 6749 §5.2), not ``invalid_request``.
- A replayed authorization code is ``invalid_grant`` *and* revokes the tokens issued from it
  (RFC 6749 §4.1.2); codes are redeemed under a row lock, so two racing redemptions give one.
- No refresh tokens: a department's system keeps its own session and signs in again.
- ``sub`` is pairwise: one stable identifier per user *and* client, so two departments' systems
  cannot join their users without the platform. Identity numbers are never a claim.
- Only clients registered by a department (``OidcClient``) exist; every request needs ``openid``.
"""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication, get_grant_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server

from yiwang.identity import oidc_services
from yiwang.identity.models import OidcSignIn

# What each scope gives the client, in the words the consent page uses.
SCOPE_CLAIMS = {
    "openid": (("sub", _("An identifier of your account for this system only")),),
    "profile": (("name", _("Your name")),),
    "realname": (("realname_level", _("Your real-name level (L1, L2 or L3)")),),
    "enterprise": (
        ("enterprise_name", _("The name of the enterprise you act for")),
        ("enterprise_credit_code", _("Its unified social credit code")),
    ),
}
CLAIM_SCOPE = {claim: scope for scope, claims in SCOPE_CLAIMS.items() for claim, _label in claims}
ACR_VALUES = oidc_services.ACR_VALUES


def requested_claims(scopes) -> list[tuple[str, str]]:
    """(claim, label) of every claim the scopes give, in the order of ``SCOPE_CLAIMS``."""
    wanted = set(scopes)
    return [pair for scope, claims in SCOPE_CLAIMS.items() if scope in wanted for pair in claims]


def _oidc_client(application):
    return getattr(application, "oidc_client", None) if application is not None else None


class PlatformValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPE

    # --- clients and redirect URIs -------------------------------------------------------

    def _load_application(self, client_id, request):
        """Only applications a department registered (an ``OidcClient``) are clients."""
        application = super()._load_application(client_id, request)
        if application is None or _oidc_client(application) is None:
            request.client = None
            return None
        return application

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri in request.client.redirect_uris.split()

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request=None, *args, **kwargs):
        grant = get_grant_model().objects.filter(code=code, application=client).first()
        if grant is None or redirect_uri != grant.redirect_uri:
            raise errors.InvalidGrantError(
                description="redirect_uri is not the one of the authorization request.", request=request
            )
        return True

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return "openid" in scopes and super().validate_scopes(client_id, scopes, client, request)

    def validate_silent_authorization(self, request):
        return False  # the user consents on the page every time: prompt=none gets consent_required

    def validate_silent_login(self, request):
        return True

    # --- codes ------------------------------------------------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        oidc_services.sign_in_authorized(
            client=request.client.oidc_client,
            user=request.user,
            code=code["code"],
            scope=" ".join(request.scopes),
            enterprise_id=getattr(request, "yiwang_enterprise_id", None),
        )

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """The grant is locked for the rest of the token request (the view is atomic). A code
        that is gone but was redeemed is a replay: its tokens are revoked."""
        grant = get_grant_model().objects.select_for_update().filter(code=code, application=client).first()
        if grant is None:
            if oidc_services.code_replayed(client=_oidc_client(client), code=code):
                raise errors.InvalidGrantError(
                    description="The authorization code was already used; the tokens it gave are revoked.",
                    request=request,
                )
            raise errors.InvalidGrantError(
                description="The authorization code is not valid.", request=request
            )
        if grant.is_expired():
            raise errors.InvalidGrantError(description="The authorization code has expired.", request=request)
        return super().validate_code(client_id, code, client, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.yiwang_access_token = access_token
        return access_token

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        oidc_services.code_redeemed(
            client=request.client.oidc_client,
            code=code,
            access_token=getattr(request, "yiwang_access_token", None),
        )

    # --- claims -----------------------------------------------------------------------------

    def _sign_in(self, request) -> OidcSignIn | None:
        code = getattr(request, "code", None)
        if code:
            return oidc_services.sign_in_of_code(code)
        access_token = getattr(request, "access_token", None)
        if access_token is not None and hasattr(access_token, "token_checksum"):
            return OidcSignIn.objects.filter(access_token=access_token).select_related("enterprise").first()
        return None

    def get_claim_dict(self, request):
        return oidc_services.claims(user=request.user, client=request.client, sign_in=self._sign_in(request))

    def get_discovery_claims(self, request):
        return ["sub", "acr", *sorted(CLAIM_SCOPE.keys() - {"sub"})]

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        acr = oidc_services.acr_of(request.user)
        if acr:
            claims["acr"] = acr
        return claims, expiration_time


class PlatformServer(Server):
    """oauthlib's OpenID Connect server with the authorization code grant narrowed: PKCE
    ``S256`` only, and no refresh tokens."""

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = {"S256": code_challenge_method_s256}
            grant.refresh_token = False


# The only algorithm clients get (django-oauth-toolkit signs with RSA or with the client secret;
# secrets are stored hashed here, so HS256 could not be verified by the platform anyway).
SIGNING_ALGORITHM = AbstractApplication.RS256_ALGORITHM
