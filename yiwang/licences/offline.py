"""The offline cache of issuer keys and status lists (``yiwang licences-cache`` writes it,
``yiwang verify-licence`` reads it). A JSON file::

    {"format": "yiwang-licences-cache/1", "written_at": "...",
     "issuers": {"<iss>": {"name": "...", "jwks": {"keys": [...]}}},
     "status_lists": {"<status list URL>": "<statuslist+jwt>"}}

Status list tokens are kept as signed, so the verifier checks them (signature, ``sub``, ``exp``)
when it uses them: a stale cache gives "status unknown", never "valid".
"""

from __future__ import annotations

import json
from pathlib import Path

from django.utils import timezone

from yiwang.licences import services
from yiwang.licences.models import IssuerKey, StatusList, TrustedIssuer
from yiwang.licences.verify import StaticTrust

FORMAT = "yiwang-licences-cache/1"


class CacheError(Exception):
    pass


def snapshot() -> dict:
    """This deployment's issuers (every key) and status lists, and its trusted issuers' cached
    keys and status lists."""
    issuers: dict[str, dict] = {}
    lists: dict[str, str] = {}
    departments = {k.department for k in IssuerKey.objects.select_related("department")}
    for department in sorted(departments, key=lambda d: d.code):
        issuers[services.issuer_url(department)] = {
            "name": department.name,
            "jwks": services.department_jwks(department),
        }
    for lst in StatusList.objects.select_related("department").order_by("department__code", "number"):
        lists[services.status_list_url(lst)] = services.status_list_token(lst)
    for trusted in TrustedIssuer.objects.filter(is_active=True):
        issuers[trusted.issuer] = {"name": trusted.name, "jwks": trusted.jwks}
        lists.update(trusted.status_lists or {})
    return {
        "format": FORMAT,
        "written_at": timezone.now().isoformat(),
        "issuers": issuers,
        "status_lists": lists,
    }


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)  # readers never see half a file


def load(path: Path) -> StaticTrust:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CacheError(f"no cache at {path}: run `yiwang licences-cache` first") from exc
    except (OSError, ValueError) as exc:
        raise CacheError(f"the cache at {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CacheError(f"{path} is not a licences cache ({FORMAT})")
    return StaticTrust(data.get("issuers") or {}, data.get("status_lists") or {})
