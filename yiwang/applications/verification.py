"""Verify a process model against the item it is for, before any case can run on it.

``engine.parse_process`` says whether a model can be read and run safely at all. This says
whether it makes sense for *this* item, and is run when a version is attached and again when
one is activated (the form may have changed since):

1. **Paths.** Every element is reachable from the start, every path leads on to an end event,
   nothing stops halfway (a task without an outgoing flow), and no path reaches an end event
   without passing a person's task or a decision table — else every application would be
   decided at submission by nobody (bpmn.io's new diagram is a lone start event).
2. **Names.** Every name a condition or decision table reads is a field of the item's form
   (government facts reach a process only through form fields bound with ``x-source``), or a
   value the platform provides: ``decision`` and ``comment`` (set by each user task) and the
   outputs of the process's own decision tables.
3. **Dry run.** The model is run on sample data made from the form — a filled-in form, the
   form with only its required fields, and one field changed at a time — until it waits on its
   first user task or ends; on the first two every decision of every user task is then taken
   once. Any error or halt refuses the model, saying on which data and after which
   decisions it failed, within the run budget of a real case.

Pure Python: no database. Messages are translated.
"""

import ast
import datetime as dt
from collections import deque
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, StartEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin as BusinessRuleTask

from . import engine

PLATFORM_NAMES = ("decision", "comment")  # set on every user task by the platform
MAX_SAMPLES = 16
MAX_DRY_RUN_DECISIONS = 80  # user-task decisions taken in the exploration of one sample
EXPLORED_SAMPLES = 2  # the filled-in form and the form with only its required fields
MAX_MESSAGES = 20


def verify_process(spec: engine.ProcessSpec, schema: Mapping[str, Any]) -> None:
    """Raise ``engine.ModelError`` (every problem found, translated) unless ``spec`` may run
    the cases of an item whose form is ``schema``. Side effects: none."""
    errors = check_paths(spec) + check_names(spec, schema)
    if errors:
        raise engine.ModelError(errors[:MAX_MESSAGES])
    errors = dry_run(spec, schema)
    if errors:
        raise engine.ModelError(errors[:MAX_MESSAGES])


# --- 1. paths ---------------------------------------------------------------------------------


def _label(task_spec: Any) -> str:
    name = getattr(task_spec, "bpmn_name", None)
    return f"{task_spec.bpmn_id} ({name})" if name else str(task_spec.bpmn_id)


def _nodes(spec: engine.ProcessSpec) -> list[Any]:
    return [t for t in spec.spec.task_specs.values() if getattr(t, "bpmn_id", None)]


def _next(task_spec: Any) -> list[Any]:
    return [o for o in task_spec.outputs if getattr(o, "bpmn_id", None)]


def _decides(task_spec: Any) -> bool:
    return isinstance(task_spec, UserTaskMixin | BusinessRuleTask)


def check_paths(spec: engine.ProcessSpec) -> list[str]:
    """Messages for elements cut off from the start, dead ends, loops with no way out, and
    paths that end a case with nobody deciding it."""
    nodes = _nodes(spec)
    starts = [t for t in _next(spec.spec.start) if isinstance(t, StartEvent)]
    errors: list[str] = []
    if len(nodes) == 1 and starts:
        return [
            _(
                "The process has only its start event %(start)s: draw the steps after it — User "
                "Tasks for the officials (or the applicant) and an end event."
            )
            % {"start": _label(starts[0])}
        ]
    reachable: set[str] = set()
    queue = deque(starts)
    while queue:
        node = queue.popleft()
        if node.name in reachable:
            continue
        reachable.add(node.name)
        queue.extend(_next(node))
    errors += [
        _("Element %(element)s cannot be reached from the start event: connect it or delete it.")
        % {"element": _label(node)}
        for node in nodes
        if node.name not in reachable
    ]
    dead_ends = set()
    for node in nodes:
        if node.name in reachable and not isinstance(node, EndEvent) and not _next(node):
            dead_ends.add(node.name)
            errors.append(
                _(
                    "Element %(element)s has no outgoing sequence flow: a case reaching it would "
                    "stop without a decision. Connect it to the next step or to an end event."
                )
                % {"element": _label(node)}
            )
    # Which elements can still reach an end event (walking the flows backwards).
    previous: dict[str, list[Any]] = {}
    for node in nodes:
        for target in _next(node):
            previous.setdefault(target.name, []).append(node)
    finishing: set[str] = set()
    queue = deque(t for t in nodes if isinstance(t, EndEvent))
    while queue:
        node = queue.popleft()
        if node.name in finishing:
            continue
        finishing.add(node.name)
        queue.extend(previous.get(node.name, []))
    errors += [
        _(
            "From element %(element)s no path leads to an end event: a case reaching it "
            "could never finish. Add a flow to an end event."
        )
        % {"element": _label(node)}
        for node in nodes
        if node.name in reachable and node.name not in finishing and node.name not in dead_ends
    ]
    # Paths from the start to an end event on which nobody and no rule decides.
    seen: set[str] = set()
    queue = deque((start, [start]) for start in starts)
    while queue:
        node, path = queue.popleft()
        if node.name in seen:
            continue
        seen.add(node.name)
        if isinstance(node, EndEvent):
            errors.append(
                _(
                    "Every case would end at %(end)s right at submission, with no one's task and "
                    "no decision table on the way (%(path)s). Put a User Task (or a Business Rule "
                    "Task for instant approval) before the end event."
                )
                % {"end": _label(node), "path": " → ".join(str(p.bpmn_id) for p in path)}
            )
            continue
        if not _decides(node):
            queue.extend((target, [*path, target]) for target in _next(node))
    return errors


# --- 2. names ---------------------------------------------------------------------------------


def _names(expr: str) -> set[str]:
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()  # refused by parse_process already; nothing to add
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _expressions(spec: engine.ProcessSpec) -> list[tuple[str, str]]:
    """(where, Python expression) for everything the engine evaluates in this model."""
    found: list[tuple[str, str]] = []
    for task_spec in _nodes(spec):
        for condition, target in getattr(task_spec, "cond_task_specs", ()):
            if condition is None:
                continue
            text = condition.args[0] if getattr(condition, "args", None) else condition
            if isinstance(text, str):
                found.append(
                    (
                        _("the condition from %(source)s to %(target)s")
                        % {"source": task_spec.bpmn_id, "target": target},
                        text,
                    )
                )
        if isinstance(task_spec, BusinessRuleTask):
            table = task_spec.dmnEngine.decision_table
            found += [
                (
                    _("input %(id)s of decision table %(table)s") % {"id": item.id, "table": table.id},
                    item.expression,
                )
                for item in table.inputs
                if (item.expression or "").strip()
            ]
            for rule in table.rules:
                found += [
                    (
                        _("rule cell %(id)s") % {"id": entry.id},
                        engine.dmn_cell_expression(entry.input.expression or "None", cell),
                    )
                    for entry in rule.inputEntries
                    for cell in entry.lhs
                    if cell is not None
                ]
                found += [
                    (_("rule output %(id)s") % {"id": entry.id}, entry.text)
                    for entry in rule.outputEntries
                    if entry.text
                ]
    return found


def decision_outputs(spec: engine.ProcessSpec) -> set[str]:
    """The names the process's decision tables write into the case data."""
    return {
        output.name
        for task_spec in _nodes(spec)
        if isinstance(task_spec, BusinessRuleTask)
        for output in task_spec.dmnEngine.decision_table.outputs
        if output.name
    }


def names_used(spec: engine.ProcessSpec) -> set[str]:
    """Every form field (or other name) the model's conditions and tables read."""
    provided = set(PLATFORM_NAMES) | decision_outputs(spec) | {"dmninputexpr"}
    return {name for _where, expr in _expressions(spec) for name in _names(expr)} - provided


def check_names(spec: engine.ProcessSpec, schema: Mapping[str, Any]) -> list[str]:
    """Messages for names that are neither form fields nor values the platform provides."""
    fields = set((schema.get("properties") or {}).keys())
    provided = set(PLATFORM_NAMES) | decision_outputs(spec) | {"dmninputexpr"}
    errors, reported = [], set()
    for where, expr in _expressions(spec):
        for name in sorted(_names(expr) - fields - provided):
            if (where, name) in reported:
                continue
            reported.add((where, name))
            errors.append(
                _(
                    "In %(where)s the name %(name)s is neither a field of the item's form (%(fields)s) "
                    "nor a value the platform provides (%(provided)s). Add the field to the form, "
                    "or correct the name."
                )
                % {
                    "where": where,
                    "name": name,
                    "fields": ", ".join(sorted(fields)) or "—",
                    "provided": ", ".join([*PLATFORM_NAMES, *sorted(decision_outputs(spec))]),
                }
            )
    return errors


# --- 3. dry run -------------------------------------------------------------------------------


def _value(prop: Mapping[str, Any]) -> Any:
    """A typical valid value of one form field."""
    if "default" in prop:
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low, high = prop.get("minimum"), prop.get("maximum")
        value = 30 if low is None or low <= 30 else low
        return min(value, high) if high is not None else value
    if prop.get("format") == "date":
        return dt.date(2026, 1, 5).isoformat()
    if prop.get("format") == "email":
        return "applicant@example.org"
    text = "示例"
    return (text * ((int(prop.get("minLength") or 0) // 2) + 1))[: max(int(prop.get("maxLength") or 100), 1)]


def _variants(prop: Mapping[str, Any], base: Any) -> list[Any]:
    kind = prop.get("type")
    if prop.get("enum"):
        values = list(prop["enum"])
    elif kind == "boolean":
        values = [True, False]
    elif kind in ("integer", "number"):
        low, high = prop.get("minimum"), prop.get("maximum")
        values = [low if low is not None else 0, high if high is not None else 100]
    else:
        values = []
    return [v for v in values if v != base]


def sample_data(schema: Mapping[str, Any]) -> list[tuple[str, dict]]:
    """(description, data) pairs to dry-run a model on: the filled-in form, the form with only
    its required and government-provided fields (the others as the platform passes them when
    left empty: ``False`` for a checkbox, else ``None``), then one field changed at a time."""
    properties = {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, Mapping)}
    required = set(schema.get("required") or [])
    filled = {name: _value(prop) for name, prop in properties.items()}
    samples = [(_("the filled-in form"), filled)]
    minimal = {
        name: value
        if name in required or "x-source" in properties[name]
        else (False if properties[name].get("type") == "boolean" else None)
        for name, value in filled.items()
    }
    if minimal != filled:
        samples.append((_("the form with only its required fields"), minimal))
    samples += [
        (
            _("the filled-in form with %(field)s = %(value)r") % {"field": name, "value": value},
            {**filled, name: value},
        )
        for name, prop in properties.items()
        for value in _variants(prop, filled[name])
    ]
    return samples[:MAX_SAMPLES]


def _failed(sample: str, steps: list[str], exc: engine.ModelError) -> str:
    after = (_(" after the decisions %(steps)s") % {"steps": " → ".join(steps)}) if steps else ""
    return _("Dry run on %(sample)s%(after)s: %(error)s") % {
        "sample": sample,
        "after": after,
        "error": "; ".join(exc.messages),
    }


def dry_run(spec: engine.ProcessSpec, schema: Mapping[str, Any]) -> list[str]:
    """Run the model on the sample data; messages for each run that errs or halts."""
    errors: list[str] = []
    used = sorted(names_used(spec))
    seen: set[str] = set()
    index = -1
    for label, data in sample_data(schema):
        # Samples that agree on every name the model reads run the same way: run one of them.
        key = repr([data.get(name) for name in used])
        if key in seen:
            continue
        seen.add(key)
        index += 1
        try:
            run = engine.Run.start(spec, data)
        except engine.ProcessError as exc:
            errors.append(_failed(label, [], exc))
            continue
        if index < EXPLORED_SAMPLES:
            errors += _explore(run, label)
    return errors


def _explore(first: engine.Run, label: str) -> list[str]:
    """Take every decision of every user task once (breadth first), each from a copy."""
    tried: set[tuple[str, str]] = set()
    queue: deque[tuple[dict, list[str]]] = deque([(first.serialize(), [])])
    taken = 0
    while queue and taken < MAX_DRY_RUN_DECISIONS:
        state, steps = queue.popleft()
        for task in engine.Run.restore(state).open_tasks():
            for decision in task.decisions:
                if (task.name, decision) in tried or taken >= MAX_DRY_RUN_DECISIONS:
                    continue
                tried.add((task.name, decision))
                taken += 1
                run = engine.Run.restore(state)
                where = [*steps, f"{task.title or task.name}: {decision}"]
                try:
                    run.complete(task.id, decision=decision, data={"comment": _("dry run")})
                    finished = run.finished
                except engine.ProcessError as exc:
                    return [_failed(label, where, exc)]
                if not finished:
                    queue.append((run.serialize(), where))
    return []
