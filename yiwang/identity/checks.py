from django.conf import settings
from django.core.checks import Tags, Warning, register

from yiwang.identity import realname


@register(Tags.security, deploy=True)
def check_realname_verifier(app_configs, **kwargs):
    if realname.verifier_path() == realname.DEFAULT_VERIFIER and not settings.DEV:
        return [
            Warning(
                "Real-name verification uses the offline fake: any well-formed identity number is accepted.",
                hint="Set IDENTITY_REALNAME_VERIFIER to a class that calls the public-security identity "
                "interface (see yiwang/identity/realname.py).",
                id="identity.W001",
            )
        ]
    return []
