"""Single sign-on writes: departments register their systems as OpenID Connect clients; users
sign in at them. Every change of a client and every token issued or revoked is audited; no token,
code or secret ever enters the audit data (docs/sso.md).

Events: ``identity:oidc_client:create|update|reset_secret|delete`` (public leaves: a department
registered a system), ``identity:signin:authorize|token_issue|token_revoke|deny`` (security
events: their leaves say only that they exist).
"""

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.settings import oauth2_settings

from yiwang.audit import services as audit
from yiwang.identity import permissions
from yiwang.identity.models import Department, EnterpriseAgent, OidcClient, OidcSignIn, Person, Role, User

# acr values: how sure the platform is who the user is (the real-name level of yiwang.identity).
ACR_PREFIX = "urn:yiwang:realname:"
ACR_VALUES = tuple(f"{ACR_PREFIX}L{level}" for level in (1, 2, 3))


def pairwise_sub(user: User, client_id: str) -> str:
    """The user's subject identifier at one client: stable, and unlinkable across clients
    without the platform's key (OIDC Core §8.1; the sector is the client)."""
    digest = hmac.new(
        settings.OIDC_PAIRWISE_KEY, f"{client_id}\x00{user.pk}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


# --- clients -----------------------------------------------------------------------------------


def parse_uris(text: str, *, field: str, required: bool) -> list[str]:
    """The URIs of a textarea, one a line: absolute, of an allowed scheme (https; http too in
    development), with a host, no fragment, no user name and no wildcard. Raises ValidationError
    keyed by ``field``."""
    uris = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))
    problems = []
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES or not parts.hostname:
            problems.append(
                _("%(uri)s: give a full address starting with %(schemes)s.")
                % {
                    "uri": uri,
                    "schemes": " / ".join(f"{s}://" for s in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES),
                }
            )
        elif "#" in uri or "@" in parts.netloc or "*" in uri or any(c.isspace() for c in uri):
            problems.append(
                _("%(uri)s: an address may have no fragment (#), user name (@), wildcard (*) or space.")
                % {"uri": uri}
            )
    if required and not uris:
        problems.append(_("Give at least one redirect address."))
    if problems:
        raise ValidationError({field: problems})
    return uris


def client_of(client_id) -> OidcClient | None:
    """The registered client with this client id, or None."""
    if not isinstance(client_id, str) or not client_id:
        return None
    return (
        OidcClient.objects.select_related("application", "department")
        .filter(application__client_id=client_id)
        .first()
    )


def _client_data(client: OidcClient) -> dict:
    app = client.application
    return {
        "client_id": app.client_id,
        "name": app.name,
        "department": client.department.code,
        "redirect_uris": app.redirect_uris.split(),
        "post_logout_redirect_uris": app.post_logout_redirect_uris.split(),
    }


@transaction.atomic
def client_register(
    *,
    actor: User,
    department: Department,
    name: str,
    redirect_uris: str,
    post_logout_redirect_uris: str = "",
    client_id: str | None = None,
) -> tuple[OidcClient, str]:
    """Register a department's system: a confidential client of the authorization code flow,
    ID tokens signed RS256, consent asked every time. Returns the client and its secret, which
    is stored hashed and never shown again. Only an administrator of the department (or of one
    above it) may; raises PermissionDenied otherwise, ValidationError for bad addresses.
    ``client_id`` is generated unless given (the demo gives a fixed one)."""
    permissions.ensure_role(actor, Role.ADMIN, department)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the system a name.")]})
    redirects = parse_uris(redirect_uris, field="redirect_uris", required=True)
    logouts = parse_uris(post_logout_redirect_uris, field="post_logout_redirect_uris", required=False)
    secret = generate_client_secret()
    application = get_application_model()(
        name=name[:255],
        client_type=AbstractApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE,
        redirect_uris="\n".join(redirects),
        post_logout_redirect_uris="\n".join(logouts),
        algorithm=AbstractApplication.RS256_ALGORITHM,
        skip_authorization=False,
        hash_client_secret=True,
        client_secret=secret,
        **({"client_id": client_id} if client_id else {}),
    )
    application.full_clean()
    application.save()
    client = OidcClient.objects.create(application=application, department=department, created_by=actor)
    audit.record(actor=actor, event="identity:oidc_client:create", target=client, data=_client_data(client))
    return client, secret


@transaction.atomic
def client_update(
    *,
    actor: User,
    client: OidcClient,
    name: str,
    redirect_uris: str,
    post_logout_redirect_uris: str = "",
    department: Department | None = None,
) -> OidcClient:
    """Change a client's name, addresses or department (the actor must administer the old and
    the new department). Audited with the values before and after."""
    client = (
        OidcClient.objects.select_for_update().select_related("application", "department").get(pk=client.pk)
    )
    permissions.ensure_role(actor, Role.ADMIN, client.department)
    if department is not None and department.pk != client.department_id:
        permissions.ensure_role(actor, Role.ADMIN, department)
    before = _client_data(client)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the system a name.")]})
    app = client.application
    app.name = name[:255]
    app.redirect_uris = "\n".join(parse_uris(redirect_uris, field="redirect_uris", required=True))
    app.post_logout_redirect_uris = "\n".join(
        parse_uris(post_logout_redirect_uris, field="post_logout_redirect_uris", required=False)
    )
    app.full_clean(exclude=["client_secret"])
    app.save(update_fields=["name", "redirect_uris", "post_logout_redirect_uris", "updated"])
    if department is not None and department.pk != client.department_id:
        client.department = department
        client.save(update_fields=["department"])
    after = _client_data(client)
    if after != before:
        audit.record(
            actor=actor,
            event="identity:oidc_client:update",
            target=client,
            data={"before": before, "after": after},
        )
    return client


@transaction.atomic
def client_reset_secret(*, actor: User, client: OidcClient) -> str:
    """Give the client a new secret (the old one stops working at once); returned once."""
    client = (
        OidcClient.objects.select_for_update().select_related("application", "department").get(pk=client.pk)
    )
    permissions.ensure_role(actor, Role.ADMIN, client.department)
    secret = generate_client_secret()
    app = client.application
    app.client_secret = secret
    app.save(update_fields=["client_secret", "updated"])
    audit.record(
        actor=actor,
        event="identity:oidc_client:reset_secret",
        target=client,
        data={"client_id": app.client_id, "department": client.department.code},
    )
    return secret


@transaction.atomic
def client_delete(*, actor: User, client: OidcClient) -> None:
    """Remove a client and with it every token and code it holds (they stop working at once)."""
    client = (
        OidcClient.objects.select_for_update().select_related("application", "department").get(pk=client.pk)
    )
    permissions.ensure_role(actor, Role.ADMIN, client.department)
    data = _client_data(client)
    audit.record(actor=actor, event="identity:oidc_client:delete", target=client, data=data)
    client.application.delete()  # cascades to the client row, its grants, tokens and sign-ins


# --- sign-ins --------------------------------------------------------------------------------------


def sign_in_authorized(*, client: OidcClient, user: User, code: str, scope: str, enterprise_id) -> OidcSignIn:
    """The user consented: remember the code's hash, the scope and the enterprise acted for."""
    enterprise = None
    if enterprise_id is not None and "enterprise" in scope.split():
        enterprise = (
            permissions.agencies_of(user)
            .filter(enterprise_id=enterprise_id)
            .values_list("enterprise", flat=True)
            .first()
        )
    with transaction.atomic():
        sign_in = OidcSignIn.objects.create(
            client=client, user=user, code_hash=code_hash(code), scope=scope, enterprise_id=enterprise
        )
        audit.record(
            actor=user,
            event="identity:signin:authorize",
            target=client,
            data={"client_id": client.application.client_id, "scope": scope, "sign_in": sign_in.pk},
        )
    return sign_in


def sign_in_denied(*, client: OidcClient, user: User) -> None:
    """The user refused the consent page."""
    with transaction.atomic():
        audit.record(
            actor=user,
            event="identity:signin:deny",
            target=client,
            data={"client_id": client.application.client_id},
        )


def sign_in_of_code(code: str) -> OidcSignIn | None:
    return OidcSignIn.objects.filter(code_hash=code_hash(code)).select_related("enterprise").first()


def code_redeemed(*, client: OidcClient, code: str, access_token) -> None:
    """The token endpoint gave tokens for the code (in the token request's transaction)."""
    sign_in = OidcSignIn.objects.select_for_update().filter(code_hash=code_hash(code), client=client).first()
    if sign_in is None:  # a code made before sign-ins were recorded; nothing to link
        return
    sign_in.redeemed_at = timezone.now()
    sign_in.access_token = access_token
    sign_in.save(update_fields=["redeemed_at", "access_token"])
    audit.record(
        actor=client,
        event="identity:signin:token_issue",
        target=client,
        subject=sign_in.user,
        data={"client_id": client.application.client_id, "scope": sign_in.scope, "sign_in": sign_in.pk},
    )


def _revoke_tokens(sign_in: OidcSignIn) -> bool:
    token = sign_in.access_token
    if token is None:
        return False
    id_token = token.id_token if token.id_token_id else None
    token.revoke()
    if id_token is not None:
        id_token.revoke()
    sign_in.access_token = None  # the row is gone (the column was set null with it)
    return True


def code_replayed(*, client: OidcClient | None, code: str) -> bool:
    """A code that was already redeemed came back (RFC 6749 §4.1.2): revoke the tokens it gave.
    True when the code was this client's and redeemed; an unknown code changes nothing."""
    if client is None:
        return False
    sign_in = (
        OidcSignIn.objects.select_for_update(of=("self",))
        .filter(code_hash=code_hash(code), client=client, redeemed_at__isnull=False)
        .select_related("access_token__id_token")
        .first()
    )
    if sign_in is None:
        return False
    revoked = _revoke_tokens(sign_in)
    if sign_in.revoked_at is None:
        sign_in.revoked_at = timezone.now()
        sign_in.save(update_fields=["revoked_at"])
    audit.record(
        actor=client,
        event="identity:signin:token_revoke",
        target=client,
        subject=sign_in.user,
        data={
            "client_id": client.application.client_id,
            "sign_in": sign_in.pk,
            "reason": "code_replayed",
            "tokens_revoked": revoked,
        },
    )
    return True


@transaction.atomic
def sign_out_everywhere(*, user: User) -> int:
    """RP-initiated logout: revoke the user's live single sign-on tokens (one audit entry per
    sign-in whose tokens are revoked). Returns how many sign-ins were ended."""
    sign_ins = list(
        OidcSignIn.objects.select_for_update(of=("self",))
        .filter(user=user, access_token__isnull=False)
        .select_related("client__application", "access_token__id_token")
    )
    now = timezone.now()
    for sign_in in sign_ins:
        _revoke_tokens(sign_in)
        sign_in.revoked_at = now
        sign_in.save(update_fields=["revoked_at"])
        audit.record(
            actor=user,
            event="identity:signin:token_revoke",
            target=sign_in.client,
            data={
                "client_id": sign_in.client.application.client_id,
                "sign_in": sign_in.pk,
                "reason": "logout",
            },
        )
    return len(sign_ins)


# --- claims --------------------------------------------------------------------------------------


def acr_of(user: User) -> str:
    """The ``acr`` of a sign-in: the user's real-name level (none for accounts without a person)."""
    level = Person.objects.filter(user=user).values_list("realname_level", flat=True).first()
    return f"{ACR_PREFIX}L{level}" if level else ""


def claims(*, user: User, client, sign_in: OidcSignIn | None) -> dict:
    """Every claim the user has for ``client``; django-oauth-toolkit keeps those the granted
    scopes give (``oidc.CLAIM_SCOPE``). The enterprise is the one the user acted for at consent,
    and only while they still act for it. Never an identity number."""
    person = Person.objects.filter(user=user).first()
    result = {
        "sub": pairwise_sub(user, client.client_id),
        "name": person.name if person else (user.display_name or user.get_username()),
    }
    if person is not None:
        result["realname_level"] = f"L{person.realname_level}"
    if sign_in is not None and sign_in.enterprise_id is not None:
        agency = (
            permissions.agencies_of(user)
            .filter(enterprise_id=sign_in.enterprise_id)
            .select_related("enterprise")
            .first()
        )
        if isinstance(agency, EnterpriseAgent):
            result["enterprise_name"] = agency.enterprise.name
            result["enterprise_credit_code"] = agency.enterprise.credit_code
    return result
