from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from yiwang.identity import legalentities, realname


@register(Tags.security, deploy=True)
def check_registers(app_configs, **kwargs):
    """The demo registers are empty outside development, so nobody could be verified or act
    for an enterprise: say so, rather than let an operator wonder why every check fails."""
    if settings.DEV:
        return []
    problems = []
    if realname.verifier_path() == realname.DEFAULT_VERIFIER:
        problems.append(
            Warning(
                "Real-name verification uses the demo resident register: nobody can reach level L2.",
                hint="Set IDENTITY_REALNAME_VERIFIER to a class that asks the population register "
                "(人口库; see yiwang/identity/realname.py).",
                id="identity.W001",
            )
        )
    if legalentities.register_path() == legalentities.DEFAULT_REGISTER:
        problems.append(
            Warning(
                "Enterprises come from the demo legal-entity register: nobody can act for an enterprise.",
                hint="Set IDENTITY_LEGAL_ENTITY_REGISTER to a class that asks the legal-entity register "
                "(法人库; see yiwang/identity/legalentities.py).",
                id="identity.W002",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_oidc_signing_key(app_configs, **kwargs):
    """Single sign-on signs ID tokens with an RSA key (RS256). Without one no department's
    system could verify a sign-in: refuse to deploy rather than fail at the first sign-in."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY") or ""
    hint = "Run `yiwang oidc-keygen` once and keep the file safe; set OIDC_SIGNING_KEY_FILE (docs/sso.md)."
    if not pem:
        return [
            Error(
                f"The single sign-on signing key {settings.OIDC_SIGNING_KEY_FILE} does not exist.",
                hint=hint,
                id="identity.E001",
            )
        ]
    try:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        return [
            Error(
                f"{settings.OIDC_SIGNING_KEY_FILE} is not an unencrypted RSA private key of 2048 bits "
                "or more.",
                hint=hint,
                id="identity.E002",
            )
        ]
    return []
