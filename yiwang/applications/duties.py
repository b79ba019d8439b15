"""Separation of duties (四眼原则): one official performs at most one duty on a case.

The duties are the case-deciding roles of a process's user tasks: acceptance (``clerk``, which
also hands out the result, 办结), review (``reviewer``) and approval (``approver``). An official
who has done a task of one duty on a case may not claim or complete a task of another duty on
the same case, whatever roles they hold; doing the same duty again (accepting again after a
supplement, or completing a case one accepted) is allowed.

A process may relax the rule, explicitly and visibly in its model, with a process-level
property (see docs/applications.md)::

    <bpmn:process id="..." isExecutable="true">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="separation_of_duties" value="relaxed"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>

The platform's default process never relaxes it. The rule reads the process version the case
runs on, so a new version of a model never changes the rule for cases already running.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from yiwang.identity.models import CASE_ROLES, Role

from . import dialects
from .models import Case, Process, Task

DUTIES = CASE_ROLES
DUTY_LABELS = {
    Role.CLERK: gettext_lazy("acceptance (受理)"),
    Role.REVIEWER: gettext_lazy("review (审核)"),
    Role.APPROVER: gettext_lazy("approval (审批)"),
}
RELAX_PROPERTY = "separation_of_duties"
RELAX_VALUE = "relaxed"

_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


@lru_cache(maxsize=256)
def _relaxed_in(bpmn: str) -> bool:
    try:
        root = etree.fromstring(bpmn.encode("utf-8"), parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return False  # fail closed: a model we cannot read keeps the rule
    if root is None:
        return False
    # Camunda Modeler writes the property as camunda:/zeebe:property: read it the engine's way.
    if dialects.normalize_bpmn(root):
        return False  # a model the platform refuses keeps the rule
    values = root.xpath(
        "./bpmn:process/bpmn:extensionElements/spiffworkflow:properties"
        f"/spiffworkflow:property[@name='{RELAX_PROPERTY}']/@value",
        namespaces=_NS,
    )
    return bool(values) and all(str(v).strip().lower() == RELAX_VALUE for v in values)


def process_relaxes(process: Process | None) -> bool:
    """True when the process model explicitly relaxes separation of duties. No model (the
    platform's default process) or an unreadable one: False."""
    if process is None:
        return False
    return _relaxed_in(process.bpmn)


def conflicting_duty(*, case: Case, actor, role: str) -> str | None:
    """The other duty ``actor`` already performed on ``case`` that forbids them a task of
    ``role``, or None when they may do it. Reads the case's finished tasks; no side effects."""
    if role not in DUTIES or process_relaxes(case.process if case.process_id else None):
        return None
    done = (
        Task.objects.filter(case=case, state=Task.State.DONE, closed_by=actor, role__in=DUTIES)
        .exclude(role=role)
        .values_list("role", flat=True)
    )
    return next(iter(done), None)


def conflict_message(*, done: str, role: str) -> str:
    """What an official is told when the rule refuses them a task, in their language."""
    return _(
        "You did the %(done)s of this case, so another official must do its %(step)s (separation of duties)."
    ) % {"done": DUTY_LABELS.get(done, done), "step": DUTY_LABELS.get(role, role)}
