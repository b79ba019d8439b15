from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    problems = []
    if settings.DEV:
        problems.append(
            Warning(
                "YIWANG_DEV is on: development keys and defaults are in use.",
                hint="Unset YIWANG_DEV and set SECRET_KEY and FIELD_ENCRYPTION_KEYS "
                "(or FIELD_ENCRYPTION_KEY) in production.",
                id="yiwang.W001",
            )
        )
    if not settings.DEV and not settings.AUDIT_SIGNING_KEY_FILE.exists():
        problems.append(
            Error(
                f"The audit signing key {settings.AUDIT_SIGNING_KEY_FILE} does not exist.",
                hint="Run `yiwang audit-keygen` once and keep the file safe; set AUDIT_SIGNING_KEY_FILE.",
                id="yiwang.E001",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_proxy_addresses(app_configs, **kwargs):
    """Behind a TLS proxy without TRUSTED_PROXIES every client has the proxy's address, so the
    per-address throttles would count everyone together."""
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXIES:
        return [
            Warning(
                "BEHIND_TLS_PROXY is on but TRUSTED_PROXIES is empty: "
                "every client will have the proxy's address.",
                hint="Set TRUSTED_PROXIES to the proxy's address or network (see docs/configuration.md).",
                id="yiwang.W002",
            )
        ]
    return []
