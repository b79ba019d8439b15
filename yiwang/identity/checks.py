from django.conf import settings
from django.core.checks import Tags, Warning, register

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
