"""Who may see and act on which licence. "Not yours" and "does not exist" are the same 404."""

from __future__ import annotations

from django.http import Http404

from yiwang.identity.permissions import departments_for, has_role, is_row_id
from yiwang.licences import selectors
from yiwang.licences.models import Licence
from yiwang.licences.services import MANAGE_ROLE, READ_ROLES


def get_licence_for_user(user, pk) -> Licence:
    """A licence the user holds (their own, or of an enterprise they act for); else 404."""
    if not is_row_id(pk):
        raise Http404
    licence = selectors.licences_for_user(user).filter(pk=pk).first()
    if licence is None:
        raise Http404
    return licence


def may_read_department_licences(user) -> bool:
    return any(has_role(user, role) for role in READ_ROLES)


def readable_department_ids(user) -> set[int] | None:
    """Ids of the departments whose licences the official may list (None: all, superusers)."""
    ids: set[int] = set()
    for role in READ_ROLES:
        found = departments_for(user, role)
        if found is None:
            return None
        ids |= found
    return ids


def get_department_licence_for_user(user, pk, *, for_write: bool = False) -> Licence:
    """A licence of a department the official reads (``for_write``: manages); else 404."""
    if not is_row_id(pk):
        raise Http404
    licence = selectors.department_licences(readable_department_ids(user)).filter(pk=pk).first()
    if licence is None:
        raise Http404
    if for_write and not has_role(user, MANAGE_ROLE, licence.department_id):
        raise Http404
    return licence
