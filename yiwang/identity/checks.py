from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from yiwang.identity import legalentities, realname


@register(Tags.security, deploy=True)
def check_registers(app_configs, **kwargs):
    """A register client that cannot be loaded verifies nobody and lets nobody act for an
    enterprise (every check fails closed): say so, rather than let an operator wonder why."""
    problems = []
    for path, what, setting, check_id in (
        (realname.verifier_path(), "Real-name verification", "IDENTITY_REALNAME_VERIFIER", "identity.W001"),
        (
            legalentities.register_path(),
            "The legal-entity register",
            "IDENTITY_LEGAL_ENTITY_REGISTER",
            "identity.W002",
        ),
    ):
        try:
            import_string(path)
        except ImportError as exc:
            problems.append(
                Warning(
                    f"{what} client {path!r} cannot be loaded ({exc}): every check will fail.",
                    hint=f"Set {setting} to the dotted path of a register client class "
                    "(the default reads the exchange's base data; see docs/identity.md).",
                    id=check_id,
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
