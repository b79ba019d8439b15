"""The case process engine: a thin, safe wrapper around SpiffWorkflow for yiwang applications.

A case runs a BPMN process. Uploaded models are code, so ``parse_process`` refuses everything
the restricted evaluator would refuse (at upload, not only at run time) by checking the spec
SpiffWorkflow parsed, not the XML, every workflow runs with the restricted script engine (set
again after every restore), and user tasks are only completed when they are really open.

Every run has a budget (``Budget``: engine steps per request, passes of any one element, size
of any value, tasks and serialized size of the whole workflow) and fails closed: a run that
exceeds its budget, or ends in any state other than "waiting on a user task" or "reached
exactly one end event", raises ``RunHalted`` and must not be saved; the case goes to a person.
Pure Python: no Django models, no database (the budget's limits are read from settings).
"""

import functools
import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from yiwang.identity.models import CASE_ROLES

from . import dialects, expressions, workflow
from .models import APPLICANT_ROLE, PROCESS_DECISIONS

PROCESSES_DIR = Path(__file__).resolve().parent / "processes"
STATE_FORMAT = "yiwang.run/1"

# The process vocabulary comes from its one definition each (identity's roles, the case
# lifecycle, the decisions); the engine only checks a diagram against it.
ROLES = (*CASE_ROLES, APPLICANT_ROLE)
STATUSES = tuple(workflow.TASK_STATUSES)
DECISIONS = tuple(PROCESS_DECISIONS)
OUTCOMES = tuple(workflow.OUTCOMES)
HIT_POLICIES = ("UNIQUE", "COLLECT")  # what Spiff 3.2 implements; others silently act as "first"

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# Flow elements a yiwang process may contain; anything else (scripts, services, calls, timers,
# messages, subprocesses) either runs code or is not part of the case model.
ALLOWED_PROCESS_CHILDREN = {
    "startEvent",
    "endEvent",
    "userTask",
    "businessRuleTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "sequenceFlow",
    "laneSet",
    "textAnnotation",
    "association",
    "documentation",
    "extensionElements",
}
# Task types with no one to do them: bpmn.io's default shape is a plain task.
TASKS_NOBODY_DOES = {"task", "manualTask", "sendTask", "receiveTask"}
FORBIDDEN_ANYWHERE = {
    "script",
    "preScript",
    "postScript",
    "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics",
    "ioSpecification",
    "dataInputAssociation",
    "dataOutputAssociation",
    "serviceTaskOperator",
}

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


class ModelError(Exception):
    """A process model cannot be used; `messages` say what to fix and where (translated)."""

    def __init__(self, messages: Sequence[str]):
        self.messages = [str(m) for m in messages]
        super().__init__("\n".join(self.messages))


class ProcessError(ModelError):
    """The model failed while running on this case's data (e.g. a condition names a missing field).

    The workflow is left half-stepped: do not save this Run.
    """


class RunHalted(ProcessError):  # noqa: N818 - named for what happened
    """The run stopped before the model decided anything: its budget ran out, or it reached a
    state no end event accounts for. Do not save this Run; hand the case to a person.

    ``reason`` is a stable code for the audit log (see ``HALT_REASONS``)."""

    def __init__(self, messages: Sequence[str], reason: str):
        super().__init__(messages)
        self.reason = reason


# "model": the stored model of the case's version cannot be read any more (refused by a newer check).
# "fact": a bound government fact could not be fetched (applications.facts): rules never decide
# without it.
# "credit": the enterprise is on the serious-dishonesty list, or the list could not be read, and the
# rules would decide (applications.credit_flag): joint punishment, never 秒批.
HALT_REASONS = (
    "steps",
    "loop",
    "tasks",
    "value",
    "state",
    "stuck",
    "no_end",
    "ambiguous_end",
    "model",
    "fact",
    "credit",
)


@dataclass(frozen=True)
class Budget:
    """What one run may spend. ``tasks`` also keeps the tree far below the depth (1000) past
    which SpiffWorkflow's task iterators silently stop looking, which made a looping model look
    finished ("办结") with its tasks still waiting."""

    steps: int = 200  # automatic steps (gateways, rule tasks, events) in one request
    loop_passes: int = 50  # times any one element runs in a case
    tasks: int = 400  # tasks in the whole workflow
    value_length: int = expressions.DEFAULT_MAX_VALUE_LENGTH  # characters or items of a value
    state_bytes: int = 1_000_000  # the serialized workflow state stored on the case


def budget() -> Budget:
    """The run budget from settings (``WORKFLOW_MAX_*``), each falling back to its default."""
    default = Budget()
    return Budget(
        steps=int(getattr(settings, "WORKFLOW_MAX_STEPS", default.steps)),
        loop_passes=int(getattr(settings, "WORKFLOW_MAX_LOOP_PASSES", default.loop_passes)),
        tasks=int(getattr(settings, "WORKFLOW_MAX_TASKS", default.tasks)),
        value_length=expressions.max_value_length(),
        state_bytes=int(getattr(settings, "WORKFLOW_MAX_STATE_BYTES", default.state_bytes)),
    )


class TaskNotOpen(Exception):  # noqa: N818 - name fixed by the interface
    """No open user task with that id (already handled, or unknown)."""


class InvalidDecision(Exception):  # noqa: N818 - name fixed by the interface
    """The decision is not one the task offers."""


@dataclass(frozen=True)
class OpenTask:
    id: str
    name: str
    title: str
    role: str
    status: str
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class RuleHit:
    table: str
    rule_id: str
    description: str
    outputs: dict


@dataclass(frozen=True)
class ProcessSpec:
    """A parsed and validated process; share it, never change it."""

    key: str
    process_id: str
    name: str
    spec: BpmnProcessSpec = field(repr=False, compare=False)
    subprocess_specs: dict = field(repr=False, compare=False)


# --- parsing and validation -------------------------------------------------------------------


def _as_bytes(source: bytes | str) -> bytes:
    return source.encode("utf-8") if isinstance(source, str) else bytes(source)


_where = dialects.where


def _load_xml(data: bytes, label: str) -> etree._Element:
    try:
        root = etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ModelError(
            [
                _("The %(file)s file is not well-formed XML (line %(line)s): %(error)s")
                % {"file": label, "line": exc.lineno or "?", "error": exc.msg}
            ]
        ) from None
    if root is None:
        raise ModelError([_("The %(file)s file is empty.") % {"file": label}])
    return root


def _properties(element: etree._Element) -> dict[str, str]:
    nodes = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
    )
    return {node.get("name"): node.get("value", "") for node in nodes}


def _check_user_task(element: etree._Element, errors: list[str]) -> None:
    _check_user_task_properties(_properties(element), _where(element), errors)


def _check_user_task_properties(props: dict[str, str], where: str, errors: list[str]) -> None:
    role = props.get("role", "")
    if role not in ROLES:
        errors.append(
            _("User task %(where)s needs a role property, one of %(allowed)s (found %(found)s).")
            % {"where": where, "allowed": ", ".join(ROLES), "found": repr(role)}
        )
    status = props.get("status", "")
    if status not in STATUSES:
        errors.append(
            _("User task %(where)s needs a status property, one of %(allowed)s (found %(found)s).")
            % {"where": where, "allowed": ", ".join(STATUSES), "found": repr(status)}
        )
    decisions = [d.strip() for d in props.get("decisions", "").split(",") if d.strip()]
    unknown = [d for d in decisions if d not in DECISIONS]
    if not decisions or unknown:
        errors.append(
            _(
                "User task %(where)s needs a decisions property: comma-separated values from "
                "%(allowed)s%(bad)s."
            )
            % {
                "where": where,
                "allowed": ", ".join(DECISIONS),
                "bad": (_(" (unknown: %(names)s)") % {"names": ", ".join(unknown)}) if unknown else "",
            }
        )


def _check_expression(text: str | None, where: str, errors: list[str]) -> None:
    if text is None or not text.strip():
        errors.append(_("%(where)s has an empty expression.") % {"where": where})
        return
    try:
        expressions.check(text)
    except expressions.UnsafeExpression as exc:
        errors.append(_("%(where)s: %(error)s") % {"where": where, "error": exc})
        return
    problem = expressions.constant_problem(text)
    if problem:
        errors.append(_("%(where)s: %(error)s") % {"where": where, "error": problem})


def _check_bpmn(root: etree._Element) -> None:
    """Check structure, properties and every expression of the BPMN before Spiff sees it."""
    errors: list[str] = []
    processes = root.xpath("//bpmn:process", namespaces=NS)
    if len(processes) != 1:
        raise ModelError(
            [
                _("A process model must contain exactly one bpmn:process (found %(n)d).")
                % {"n": len(processes)}
            ]
        )
    process = processes[0]
    if not (process.get("id") or "").strip():
        raise ModelError(
            [_("The bpmn:process %(where)s needs an id attribute.") % {"where": _where(process)}]
        )
    for element in root.iter(etree.Element):
        local = etree.QName(element).localname
        if (
            local in FORBIDDEN_ANYWHERE
            or local.endswith("EventDefinition")
            and local != "terminateEventDefinition"
        ):
            errors.append(
                _("%(where)s: %(tag)s is not allowed in yiwang processes (it runs code or waits on events).")
                % {"where": _where(element), "tag": local}
            )
    node_ids: set[str] = set()
    for element in process:
        local = etree.QName(element).localname
        if local in TASKS_NOBODY_DOES:
            errors.append(
                _(
                    "%(where)s is a %(tag)s: nobody would do it and every case would stop there. "
                    "Change its type to User Task (done by an official or the applicant, with the "
                    "role, status and decisions properties) or to Business Rule Task (a DMN decision)."
                )
                % {"where": _where(element), "tag": local}
            )
        elif local not in ALLOWED_PROCESS_CHILDREN:
            errors.append(
                _("%(where)s: element type %(tag)s is not supported in yiwang processes.")
                % {"where": _where(element), "tag": local}
            )
        not_a_node = local in ("sequenceFlow", "laneSet", "textAnnotation", "association", "documentation")
        if not not_a_node and element.get("id"):
            node_ids.add(element.get("id"))
        if local == "userTask":
            _check_user_task(element, errors)
        elif local == "endEvent":
            outcome = _properties(element).get("outcome", "completed")
            if outcome not in OUTCOMES:
                errors.append(
                    _("End event %(where)s has an unknown outcome %(found)s; use one of %(allowed)s.")
                    % {"where": _where(element), "found": repr(outcome), "allowed": ", ".join(OUTCOMES)}
                )
    flows = process.xpath("./bpmn:sequenceFlow", namespaces=NS)
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        for attr in ("sourceRef", "targetRef"):
            ref = flow.get(attr)
            if ref not in node_ids:
                errors.append(
                    _("Sequence flow %(where)s refers to %(ref)s in %(attr)s, but no such element exists.")
                    % {"where": _where(flow), "ref": repr(ref), "attr": attr}
                )
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        for condition in flow.xpath("./bpmn:conditionExpression", namespaces=NS):
            _check_expression(
                condition.text, _("Condition of sequence flow %(where)s") % {"where": _where(flow)}, errors
            )
    for gateway in process.xpath("./bpmn:exclusiveGateway | ./bpmn:inclusiveGateway", namespaces=NS):
        branches = outgoing.get(gateway.get("id"), [])
        if len(branches) > 1:
            for flow in branches:
                has_condition = flow.xpath("./bpmn:conditionExpression", namespaces=NS)
                if not has_condition and flow.get("id") != gateway.get("default"):
                    errors.append(
                        _("Sequence flow %(where)s leaves gateway %(gateway)s without a condition.")
                        % {"where": _where(flow), "gateway": gateway.get("id")}
                    )
    if errors:
        raise ModelError(errors)


def dmn_cell_expression(input_expr: str, cell: str) -> str:
    """The Python expression Spiff's DMNEngine builds from an input entry (mirrors
    DMNEngine.evaluate): a cell with ``?`` is evaluated as written (``?`` bound to the input);
    otherwise ``(input) == (cell)`` when the cell parses alone, else ``input`` + ``cell``
    (e.g. ``>= 60``). Raises UnsafeExpression for a cell too long or deep to parse."""
    match_expr = re.sub(r"(\?)(?=(?:[^\'\"]|[\'\"][^\'\"]*[\'\"])*$)", "dmninputexpr", cell)
    if "dmninputexpr" in match_expr:
        return match_expr
    try:
        expressions.SCRIPT_ENGINE.validate(match_expr)
        return f"({input_expr}) == ({match_expr})"
    except SyntaxError:
        return input_expr + match_expr


def _check_dmn(root: etree._Element) -> None:
    """Only that it is a DMN document: its contents are checked on the parsed spec."""
    if etree.QName(root).localname != "definitions" or not (root.nsmap.get(None) or root.nsmap.get("dmn")):
        raise ModelError([_("The DMN file is not a DMN document (expected a dmn:definitions element).")])


def _source_lines(roots: Sequence[etree._Element]) -> dict[str, int]:
    """id → line of every element of the uploaded files, for messages about the parsed spec."""
    lines: dict[str, int] = {}
    for root in roots:
        for element in root.iter(etree.Element):
            if element.get("id") and element.sourceline:
                lines.setdefault(element.get("id"), element.sourceline)
    return lines


def _check_spec(spec: BpmnProcessSpec, lines: dict[str, int]) -> None:
    """Check what the engine will evaluate, as SpiffWorkflow parsed it (not the XML: Spiff
    reads DMN rows by tag suffix in any namespace, so an XPath over the XML can miss a cell
    the engine would run). Refuses scripts, unsafe or unparseable conditions and cells, hit
    policies Spiff does not implement, and user tasks or end events with bad properties."""
    errors: list[str] = []

    def where(element_id: Any) -> str:
        return _("element %(id)s (line %(line)s)") % {"id": element_id, "line": lines.get(element_id, "?")}

    for task_spec in spec.task_specs.values():
        spec_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        if getattr(task_spec, "prescript", None) or getattr(task_spec, "postscript", None):
            errors.append(_("Task %(id)s has a script; scripts are not allowed.") % {"id": spec_id})
        if isinstance(task_spec, UserTaskMixin):
            _check_user_task_properties(_task_properties(task_spec), where(spec_id), errors)
        if isinstance(task_spec, EndEvent):
            outcome = _task_properties(task_spec).get("outcome", "completed")
            if outcome not in OUTCOMES:
                errors.append(
                    _("End event %(where)s has an unknown outcome %(found)s; use one of %(allowed)s.")
                    % {"where": where(spec_id), "found": repr(outcome), "allowed": ", ".join(OUTCOMES)}
                )
        for condition, target in getattr(task_spec, "cond_task_specs", ()):
            if condition is None:
                continue  # a gateway's default flow
            text = condition.args[0] if getattr(condition, "args", None) else condition
            _check_expression(
                text if isinstance(text, str) else None,
                _("Condition from %(source)s to %(target)s") % {"source": where(spec_id), "target": target},
                errors,
            )
        if isinstance(task_spec, BusinessRuleTaskMixin):
            _check_decision_table(task_spec.dmnEngine.decision_table, where, errors)
    if errors:
        raise ModelError(errors)


def _check_decision_table(table: Any, where: Any, errors: list[str]) -> None:
    policy = str(table.hit_policy or "").upper()
    if policy not in HIT_POLICIES:
        errors.append(
            _("Decision table %(where)s uses hit policy %(policy)s; only UNIQUE and COLLECT are supported.")
            % {"where": where(table.id), "policy": policy}
        )
    for item in table.inputs:
        if not (item.expression or "").strip():
            # Spiff would fall back to the input's label, looked up in the case data.
            errors.append(_("Input %(where)s needs an input expression.") % {"where": where(item.id)})
        else:
            _check_expression(item.expression, _("Input %(where)s") % {"where": where(item.id)}, errors)
    for rule in table.rules:
        for entry in rule.inputEntries:
            cell_where = _("Rule cell %(where)s") % {"where": where(entry.id)}
            # exactly the text Spiff will join with the cell (not stripped)
            input_expr = entry.input.expression if (entry.input.expression or "").strip() else "None"
            for cell in entry.lhs:
                if cell is None:
                    continue  # "-": any value
                cell_errors: list[str] = []
                try:
                    expr = dmn_cell_expression(input_expr, cell)
                except expressions.UnsafeExpression as exc:
                    cell_errors.append(_("%(where)s: %(error)s") % {"where": cell_where, "error": exc})
                else:
                    _check_expression(expr, cell_where, cell_errors)
                if cell_errors:
                    cell_errors.append(
                        _(
                            "Rule cell %(where)s: write the cell in the FEEL subset the platform reads: "
                            'a value ("a", 10, true), a comparison (< 10), a range ([1..10]), a list '
                            '("a","b"), not(...), or - for any value.'
                        )
                        % {"where": where(entry.id)}
                    )
                errors.extend(e.replace("dmninputexpr", "?") for e in cell_errors)
        for entry in rule.outputEntries:
            if entry.text:
                _check_expression(entry.text, _("Rule output %(where)s") % {"where": where(entry.id)}, errors)


def _spiff_message(exc: Exception) -> str:
    """Spiff's own (English) detail, with the element and line when it knows them."""
    if isinstance(exc, KeyError):
        detail = _("a required attribute %(name)s is missing") % {"name": exc.args[0] if exc.args else "?"}
    elif isinstance(exc, AttributeError | TypeError | IndexError | ValueError) and not isinstance(
        exc, SpiffWorkflowException
    ):
        detail = _("an element is not where the BPMN/DMN standard puts it, or is missing")
    else:
        detail = str(exc.args[0]) if exc.args else exc.__class__.__name__
    detail = detail.replace(f"{{{BPMN_NS}}}", "bpmn:").replace(f"{{{SPIFF_NS}}}", "spiffworkflow:")
    if getattr(exc, "id", ""):
        detail += " " + _("(element %(id)s)") % {"id": exc.id}
    if getattr(exc, "line_number", ""):
        detail += " " + _("(line %(line)s)") % {"line": exc.line_number}
    return detail


def _runtime_error(exc: Exception) -> ProcessError:
    """Say where the running model stopped and the real cause (Spiff hides it in the context)."""
    task_spec = getattr(exc, "task_spec", None)
    where = getattr(task_spec, "bpmn_id", None) or getattr(task_spec, "name", None) or "?"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(
        cause, expressions.UnsafeExpression | expressions.ValueTooLarge | NameError | TypeError
    ):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, expressions.ValueTooLarge):
        return RunHalted(
            [_("The process stopped at element %(where)s: %(error)s") % {"where": where, "error": cause}],
            "value",
        )
    if isinstance(cause, NameError):
        detail = _("the case data has no field %(name)s") % {
            "name": repr(getattr(cause, "name", "") or str(cause))
        }
    elif isinstance(cause, TypeError):
        detail = _("a value is empty or of the wrong type for this expression (%(error)s)") % {"error": cause}
    elif cause is not None:
        detail = str(cause)
    else:
        detail = str(exc)
    return ProcessError(
        [_("The process stopped at element %(where)s: %(error)s") % {"where": where, "error": detail}]
    )


@functools.lru_cache(maxsize=256)
def _parse(key: str, bpmn: bytes, dmns: tuple[bytes, ...]) -> ProcessSpec:
    # Uploaded text meets lxml, our checks and Spiff's parser: whatever any of them raises means
    # "this model cannot be used", never a server error and never a bare Python exception text.
    try:
        return _parse_checked(key, bpmn, dmns)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 — see above
        raise ModelError(
            [_("The process model cannot be used: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None


def _parse_checked(key: str, bpmn: bytes, dmns: tuple[bytes, ...]) -> ProcessSpec:
    root = _load_xml(bpmn, "BPMN")
    dmn_roots = [_load_xml(data, "DMN") for data in dmns]
    for dmn_root in dmn_roots:
        _check_dmn(dmn_root)
    # What bpmn.io, dmn-js and Camunda Modeler write, read as the platform's conventions.
    errors = dialects.normalize_bpmn(root)
    for dmn_root in dmn_roots:
        errors += dialects.normalize_dmn(dmn_root)
    if errors:
        raise ModelError(errors)
    _check_bpmn(root)  # first: its messages are clearer than the schema's for the usual mistakes
    _check_decision_refs(root, dmn_roots)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename="process.bpmn")
    except ValidationException as exc:
        raise ModelError(
            [_("The BPMN file does not follow the BPMN schema: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None
    except Exception as exc:  # noqa: BLE001 — see _parse
        raise ModelError(
            [_("The process model cannot be used: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None
    for dmn_root in dmn_roots:
        try:
            parser.add_dmn_xml(dmn_root, filename="decision.dmn")
        except Exception as exc:  # noqa: BLE001 — see _parse
            raise ModelError(
                [_("The DMN file is not valid: %(error)s") % {"error": _spiff_message(exc)}]
            ) from None
    process_id = root.xpath("string(//bpmn:process/@id)", namespaces=NS)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except Exception as exc:  # noqa: BLE001 — see _parse
        raise ModelError(
            [_("The process model cannot be used: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None
    _check_spec(spec, _source_lines([root, *dmn_roots]))
    return ProcessSpec(
        key=key,
        process_id=process_id,
        name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
    )


def _check_decision_refs(root: etree._Element, dmn_roots: Sequence[etree._Element]) -> None:
    """Every business rule task names a decision of the uploaded DMN (Spiff would say only
    'No DMN Diagram available with id "None"')."""
    decisions = [
        d.get("id")
        for dmn in dmn_roots
        for d in dmn.iter(etree.Element)
        if etree.QName(d).localname == "decision"
    ]
    errors = []
    for task in root.xpath("//bpmn:businessRuleTask", namespaces=NS):
        called = task.xpath("string(./bpmn:extensionElements/spiffworkflow:calledDecisionId)", namespaces=NS)
        called = called.strip()
        if not called:
            errors.append(
                _(
                    "Business rule task %(where)s names no decision: set its decision reference "
                    "(Camunda Modeler: “Decision reference”, camunda:decisionRef) to the id of a "
                    "decision in the DMN file."
                )
                % {"where": _where(task)}
            )
        elif not dmn_roots:
            errors.append(
                _("Business rule task %(where)s calls decision %(id)s, but no DMN file was uploaded with it.")
                % {"where": _where(task), "id": called}
            )
        elif called not in decisions:
            errors.append(
                _(
                    "Business rule task %(where)s calls decision %(id)s, but the DMN file has no "
                    "decision with that id (it has: %(ids)s)."
                )
                % {"where": _where(task), "id": called, "ids": ", ".join(decisions) or "—"}
            )
    if errors:
        raise ModelError(errors)


def parse_process(bpmn_xml: bytes | str, dmn_xmls: Sequence[bytes | str] = ()) -> ProcessSpec:
    """Parse and validate a BPMN model (with its DMN tables); raises ModelError. Cached by content."""
    bpmn = _as_bytes(bpmn_xml)
    dmns = tuple(_as_bytes(d) for d in dmn_xmls)
    digest = hashlib.sha256()
    for part in (bpmn, *dmns):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return _parse(digest.hexdigest(), bpmn, dmns)


BUNDLED = {
    "default": ("default.bpmn", ()),
    "supplement": ("supplement.bpmn", ()),
    "instant": ("instant.bpmn", ("instant.dmn",)),
}


def bundled_process(name: str) -> ProcessSpec:
    """One of the processes shipped with yiwang: "default", "supplement" or "instant"."""
    bpmn_name, dmn_names = BUNDLED[name]
    return parse_process(
        (PROCESSES_DIR / bpmn_name).read_bytes(), [(PROCESSES_DIR / n).read_bytes() for n in dmn_names]
    )


def default_process() -> ProcessSpec:
    return bundled_process("default")


# --- running ----------------------------------------------------------------------------------


def _check_json(value: Any, path: str = "data") -> None:
    """Case data must survive json.dumps and the Spiff serializer unchanged."""
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, got {key!r}")
            _check_json(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not a JSON type")


def _task_properties(task_spec: Any) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def _is_user_task(task: Any) -> bool:
    return isinstance(task.task_spec, UserTaskMixin)


def _halt(reason: str, message: str) -> RunHalted:
    return RunHalted([message], reason)


class Run:
    """One case's workflow. Build with start() or restore(); save serialize() after each step.

    start() and complete() spend from the run budget and check the result (see ``_verify``);
    either raises RunHalted (budget, unexpected state) or ProcessError (the model failed on the
    data), and then the Run must be thrown away, not saved."""

    def __init__(self, workflow: BpmnWorkflow, key: str, rule_hits: list[RuleHit]):
        workflow.script_engine = expressions.SCRIPT_ENGINE
        self._workflow = workflow
        self.key = key
        self._rule_hits = rule_hits
        self._outcome: str | None = None
        self._verified = False
        self._state: dict | None = None  # the state measured by the last _step
        self._cancelled = False

    @classmethod
    def start(cls, spec: ProcessSpec, data: dict) -> "Run":
        _check_json(data)
        workflow = BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=expressions.SCRIPT_ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(json.loads(json.dumps(data)))
        run = cls(workflow, spec.key, [])
        run._step(budget())
        return run

    @classmethod
    def restore(cls, state: dict) -> "Run":
        if state.get("format") != STATE_FORMAT:
            raise ValueError("not a serialized yiwang Run")
        # Spiff's from_dict pops keys out of the dict it is given: work on a copy.
        workflow = _SERIALIZER.from_dict(json.loads(json.dumps(state["workflow"])))
        hits = [RuleHit(**hit) for hit in state.get("rule_hits", [])]
        run = cls(workflow, state.get("key", ""), hits)
        if state.get("cancelled"):
            run._cancelled, run._verified = True, True
        return run

    def serialize(self) -> dict:
        """The state to store: the one measured against the budget at the end of the last step
        (do not change it), or a fresh one."""
        return self._state if self._state is not None else self._serialize()

    def _serialize(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "key": self.key,
            "workflow": _SERIALIZER.to_dict(self._workflow),
            "rule_hits": [asdict(hit) for hit in self._rule_hits],
            **({"cancelled": True} if self._cancelled else {}),
        }

    def _record_rules(self, task: Any) -> None:
        """Before a business rule task runs, keep which rules match: the citizen is told why."""
        if not isinstance(task.task_spec, BusinessRuleTaskMixin):
            return
        engine = task.task_spec.dmnEngine
        table = engine.decision_table
        name = (task.task_spec.extensions or {}).get("calledDecisionId") or table.name or table.id
        hits = [
            RuleHit(
                table=name,
                rule_id=rule.id,
                description=rule.description or "",
                outputs=dict(rule.output_as_dict(task)),
            )
            for rule in engine.decide(task)
        ]
        self._rule_hits = [hit for hit in self._rule_hits if hit.table != name] + hits

    def _all_tasks(self) -> list[Any]:
        # The flat index, not get_tasks(): Spiff's tree iterators stop at depth 1000.
        return list(self._workflow.tasks.values())

    def _passes(self) -> Counter:
        return Counter(t.task_spec.name for t in self._all_tasks() if t.state == TaskState.COMPLETED)

    def _spend(self, task: Any, limits: Budget, passes: Counter, steps: list[int]) -> None:
        """Count one task about to run against the budget; raise RunHalted when it is spent."""
        steps[0] += 1
        passes[task.task_spec.name] += 1
        where = task.task_spec.bpmn_id or task.task_spec.name
        if steps[0] > limits.steps:
            raise _halt(
                "steps",
                _(
                    "The process stopped: it took more than %(max)d automatic steps at once "
                    "(last at element %(where)s)."
                )
                % {"max": limits.steps, "where": where},
            )
        if passes[task.task_spec.name] > limits.loop_passes:
            raise _halt(
                "loop",
                _("The process stopped: element %(where)s ran more than %(max)d times in this case.")
                % {"where": where, "max": limits.loop_passes},
            )
        if len(self._workflow.tasks) > limits.tasks:
            raise _halt(
                "tasks",
                _("The process stopped: the case's workflow grew past %(max)d steps.")
                % {"max": limits.tasks},
            )

    def _step(self, limits: Budget | None = None, *, spent: int = 0) -> None:
        limits = limits or budget()
        passes = self._passes()
        steps = [spent]

        def will_complete(task: Any) -> None:
            self._spend(task, limits, passes, steps)
            self._record_rules(task)

        try:
            self._workflow.do_engine_steps(will_complete_task=will_complete)
        except RunHalted:
            raise
        except (SpiffWorkflowException, expressions.UnsafeExpression, expressions.ValueTooLarge) as exc:
            raise _runtime_error(exc) from None
        for task in self._ready_user_tasks():
            task.data.pop("decision", None)
            task.data.pop("comment", None)
        self._verified = False
        self._state = None
        self._verify()
        state = self._serialize()
        size = len(json.dumps(state, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > limits.state_bytes:
            raise _halt(
                "state",
                _(
                    "The process stopped: the case's workflow state would take %(size)d bytes "
                    "(at most %(max)d)."
                )
                % {"size": size, "max": limits.state_bytes},
            )
        self._state = state

    def _verify(self) -> None:
        """Fail closed: the workflow either waits on at least one user task, or it is over and
        reached exactly one end event (whose outcome decides the case). Anything else, whatever
        Spiff itself reports, raises RunHalted."""
        if self._verified:
            return
        tasks = self._all_tasks()
        unfinished = [t for t in tasks if t.state & TaskState.NOT_FINISHED_MASK]
        if unfinished:
            automatic = [t for t in unfinished if t.state == TaskState.READY and not t.task_spec.manual]
            if automatic or self._workflow.is_completed() or not self._ready_user_tasks():
                where = (automatic or unfinished)[0].task_spec
                raise _halt(
                    "stuck",
                    _(
                        "The process stopped in a state it cannot leave by itself "
                        "(at element %(where)s, with no step open for anyone)."
                    )
                    % {"where": where.bpmn_id or where.name},
                )
            self._outcome = None
        else:
            ends = [
                _task_properties(t.task_spec).get("outcome", "completed")
                for t in tasks
                if t.state == TaskState.COMPLETED and isinstance(t.task_spec, EndEvent)
            ]
            if any(t.state == TaskState.ERROR for t in tasks):
                raise _halt("stuck", _("The process stopped: a step of it failed."))
            if not ends:
                raise _halt("no_end", _("The process finished without reaching an end event."))
            if len(set(ends)) != 1:
                raise _halt(
                    "ambiguous_end",
                    _("The process reached end events with different outcomes (%(outcomes)s).")
                    % {"outcomes": ", ".join(sorted(set(ends)))},
                )
            self._outcome = ends[0]
        self._verified = True

    def _ready_user_tasks(self) -> list[Any]:
        return [t for t in self._all_tasks() if t.state == TaskState.READY and _is_user_task(t)]

    def open_tasks(self) -> list[OpenTask]:
        result = []
        for task in self._ready_user_tasks():
            props = _task_properties(task.task_spec)
            result.append(
                OpenTask(
                    id=str(task.id),
                    name=task.task_spec.bpmn_id or task.task_spec.name,
                    title=task.task_spec.bpmn_name or task.task_spec.name,
                    role=props.get("role", ""),
                    status=props.get("status", ""),
                    decisions=tuple(d.strip() for d in props.get("decisions", "").split(",") if d.strip()),
                )
            )
        return result

    def complete(self, task_id: str, *, decision: str, data: dict | None = None) -> None:
        """Complete an open user task with the actor's decision (and form data / comment)."""
        try:
            task = self._workflow.get_task_from_id(uuid.UUID(str(task_id)))
        except (ValueError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not _is_user_task(task):
            raise TaskNotOpen(
                _("This task is not open any more (it was already handled, or does not exist).")
            )
        open_task = next(t for t in self.open_tasks() if t.id == str(task.id))
        if decision not in open_task.decisions:
            raise InvalidDecision(
                _("Decision %(decision)s is not possible here; choose one of %(allowed)s.")
                % {"decision": repr(decision), "allowed": ", ".join(open_task.decisions)}
            )
        data = dict(data or {})
        _check_json(data)
        self._state = None
        limits = budget()
        self._spend(task, limits, self._passes(), [0])
        task.data.update(json.loads(json.dumps(data)))
        task.data["decision"] = decision
        try:
            task.run()
        except (SpiffWorkflowException, expressions.UnsafeExpression, expressions.ValueTooLarge) as exc:
            raise _runtime_error(exc) from None
        self._step(limits, spent=1)

    def cancel(self) -> None:
        """End the workflow without an outcome (the applicant withdrew): every unfinished task is
        cancelled, none is left open, and the stored state says so."""
        self._workflow.cancel()
        self._cancelled = True
        self._outcome, self._verified = None, True
        self._state = self._serialize()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def finished(self) -> bool:
        """Over, at exactly one end event (raises RunHalted for any other finished state), or
        cancelled."""
        if self._cancelled:
            return True
        self._verify()
        return self._outcome is not None

    @property
    def outcome(self) -> str | None:
        """The outcome of the end event reached; None while the case waits on a user task.
        Never a default: an end without an end event raises RunHalted."""
        self._verify()
        return self._outcome

    @property
    def status(self) -> str:
        if self.finished:
            return self.outcome
        return self.open_tasks()[0].status  # _verify: at least one is open

    @property
    def data(self) -> dict:
        last = self._workflow.last_task
        return dict(last.data) if last is not None else dict(self._workflow.data)

    @property
    def rule_hits(self) -> list[RuleHit]:
        return list(self._rule_hits)
