"""The case process engine: a thin, safe wrapper around SpiffWorkflow for yiwang applications.

A case runs a BPMN process. Uploaded models are code, so ``parse_process`` refuses everything
the restricted evaluator would refuse (at upload, not only at run time), every workflow runs
with the restricted script engine (set again after every restore), and user tasks are only
completed when they are really open. Pure Python: no Django models, no database.
"""

import ast
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

from . import expressions

PROCESSES_DIR = Path(__file__).resolve().parent / "processes"
STATE_FORMAT = "yiwang.run/1"

ROLES = ("clerk", "reviewer", "approver", "applicant")
STATUSES = ("submitted", "in_review", "supplement", "approved")
DECISIONS = ("accept", "reject", "supplement", "pass", "approve", "not_approve", "complete", "resubmit")
OUTCOMES = ("completed", "rejected", "not_approved")
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
    "task",
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


def _where(element: etree._Element) -> str:
    """'element <id> (line N)' for messages; the line helps people editing the XML by hand."""
    return _("element %(id)s (line %(line)s)") % {
        "id": element.get("id") or etree.QName(element).localname,
        "line": element.sourceline or "?",
    }


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
    props = _properties(element)
    where = _where(element)
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
        if local not in ALLOWED_PROCESS_CHILDREN:
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
    """The Python expression Spiff's DMNEngine builds from an input entry (mirrors DMNEngine.evaluate)."""
    match_expr = re.sub(r"(\?)(?=(?:[^\'\"]|[\'\"][^\'\"]*[\'\"])*$)", "dmninputexpr", cell)
    if "dmninputexpr" in match_expr:
        return match_expr
    try:
        ast.parse(match_expr)
        return f"({input_expr}) == ({match_expr})"
    except SyntaxError:
        return input_expr + match_expr


def _check_dmn(root: etree._Element) -> None:
    errors: list[str] = []
    namespace = root.nsmap.get(None) or root.nsmap.get("dmn")
    if not namespace or etree.QName(root).localname != "definitions":
        raise ModelError([_("The DMN file is not a DMN document (expected a dmn:definitions element).")])
    ns = {"dmn": namespace}
    for table in root.xpath("//dmn:decisionTable", namespaces=ns):
        policy = table.get("hitPolicy", "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            errors.append(
                _(
                    "Decision table %(where)s uses hit policy %(policy)s; "
                    "only UNIQUE and COLLECT are supported."
                )
                % {"where": _where(table), "policy": policy}
            )
        inputs = []
        for element in table.xpath("./dmn:input", namespaces=ns):
            text = element.xpath("string(./dmn:inputExpression/dmn:text)", namespaces=ns).strip()
            if not text:
                errors.append(_("Input %(where)s needs an input expression.") % {"where": _where(element)})
            else:
                _check_expression(text, _("Input %(where)s") % {"where": _where(element)}, errors)
            inputs.append(text or "None")
        for rule in table.xpath("./dmn:rule", namespaces=ns):
            for index, entry in enumerate(rule.xpath("./dmn:inputEntry", namespaces=ns)):
                cell = entry.xpath("string(./dmn:text)", namespaces=ns).strip()
                if not cell or cell == "-" or index >= len(inputs):
                    continue
                where = _("Rule cell %(where)s") % {"where": _where(entry)}
                try:
                    expr = dmn_cell_expression(inputs[index], cell)
                except SyntaxError:
                    errors.append(
                        _("%(where)s: %(cell)s is not a valid condition.")
                        % {"where": where, "cell": repr(cell)}
                    )
                    continue
                cell_errors: list[str] = []
                _check_expression(expr, where, cell_errors)
                errors.extend(e.replace("dmninputexpr", "?") for e in cell_errors)
            for entry in rule.xpath("./dmn:outputEntry", namespaces=ns):
                cell = entry.xpath("string(./dmn:text)", namespaces=ns).strip()
                if cell:
                    _check_expression(cell, _("Rule output %(where)s") % {"where": _where(entry)}, errors)
    if errors:
        raise ModelError(errors)


def _spiff_message(exc: Exception) -> str:
    """Spiff's own (English) detail, with the element and line when it knows them."""
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
    while cause is not None and not isinstance(cause, expressions.UnsafeExpression | NameError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, NameError):
        detail = _("the case data has no field %(name)s") % {
            "name": repr(getattr(cause, "name", "") or str(cause))
        }
    elif cause is not None:
        detail = str(cause)
    else:
        detail = str(exc)
    return ProcessError(
        [_("The process stopped at element %(where)s: %(error)s") % {"where": where, "error": detail}]
    )


@functools.lru_cache(maxsize=256)
def _parse(key: str, bpmn: bytes, dmns: tuple[bytes, ...]) -> ProcessSpec:
    root = _load_xml(bpmn, "BPMN")
    dmn_roots = [_load_xml(data, "DMN") for data in dmns]
    _check_bpmn(root)  # first: its messages are clearer than the schema's for the usual mistakes
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename="process.bpmn")
    except ValidationException as exc:
        raise ModelError(
            [_("The BPMN file does not follow the BPMN schema: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None
    for dmn_root in dmn_roots:
        _check_dmn(dmn_root)
        try:
            parser.add_dmn_xml(dmn_root, filename="decision.dmn")
        except (ValidationException, KeyError, IndexError) as exc:
            raise ModelError(
                [_("The DMN file is not valid: %(error)s") % {"error": _spiff_message(exc)}]
            ) from None
    process_id = root.xpath("string(//bpmn:process/@id)", namespaces=NS)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except (SpiffWorkflowException, KeyError, IndexError, ValueError) as exc:
        raise ModelError(
            [_("The process model cannot be used: %(error)s") % {"error": _spiff_message(exc)}]
        ) from None
    for task_spec in spec.task_specs.values():
        if getattr(task_spec, "prescript", None) or getattr(task_spec, "postscript", None):
            raise ModelError(
                [_("Task %(id)s has a script; scripts are not allowed.") % {"id": task_spec.name}]
            )
    return ProcessSpec(
        key=key,
        process_id=process_id,
        name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
    )


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


class Run:
    """One case's workflow. Build with start() or restore(); save serialize() after each step."""

    def __init__(self, workflow: BpmnWorkflow, key: str, rule_hits: list[RuleHit]):
        workflow.script_engine = expressions.SCRIPT_ENGINE
        self._workflow = workflow
        self.key = key
        self._rule_hits = rule_hits

    @classmethod
    def start(cls, spec: ProcessSpec, data: dict) -> "Run":
        _check_json(data)
        workflow = BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=expressions.SCRIPT_ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(json.loads(json.dumps(data)))
        run = cls(workflow, spec.key, [])
        run._step()
        return run

    @classmethod
    def restore(cls, state: dict) -> "Run":
        if state.get("format") != STATE_FORMAT:
            raise ValueError("not a serialized yiwang Run")
        # Spiff's from_dict pops keys out of the dict it is given: work on a copy.
        workflow = _SERIALIZER.from_dict(json.loads(json.dumps(state["workflow"])))
        hits = [RuleHit(**hit) for hit in state.get("rule_hits", [])]
        return cls(workflow, state.get("key", ""), hits)

    def serialize(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "key": self.key,
            "workflow": _SERIALIZER.to_dict(self._workflow),
            "rule_hits": [asdict(hit) for hit in self._rule_hits],
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

    def _step(self) -> None:
        try:
            self._workflow.do_engine_steps(will_complete_task=self._record_rules)
        except (SpiffWorkflowException, expressions.UnsafeExpression) as exc:
            raise _runtime_error(exc) from None
        for task in self._ready_user_tasks():
            task.data.pop("decision", None)
            task.data.pop("comment", None)

    def _ready_user_tasks(self) -> list[Any]:
        return [t for t in self._workflow.get_tasks(state=TaskState.READY) if _is_user_task(t)]

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
        task.data.update(json.loads(json.dumps(data)))
        task.data["decision"] = decision
        try:
            task.run()
        except (SpiffWorkflowException, expressions.UnsafeExpression) as exc:
            raise _runtime_error(exc) from None
        self._step()

    @property
    def finished(self) -> bool:
        return self._workflow.is_completed()

    @property
    def outcome(self) -> str | None:
        if not self.finished:
            return None
        for task in self._workflow.get_tasks(state=TaskState.COMPLETED):
            if isinstance(task.task_spec, EndEvent):
                return _task_properties(task.task_spec).get("outcome", "completed")
        return "completed"

    @property
    def status(self) -> str:
        if self.finished:
            return self.outcome or "completed"
        tasks = self.open_tasks()
        return tasks[0].status if tasks else "in_review"

    @property
    def data(self) -> dict:
        last = self._workflow.last_task
        return dict(last.data) if last is not None else dict(self._workflow.data)

    @property
    def rule_hits(self) -> list[RuleHit]:
        return list(self._rule_hits)
