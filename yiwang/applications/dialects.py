"""What the common modelers write, read as the platform's own conventions (docs/processes.md).

Departments draw in bpmn.io / dmn-js or Camunda Modeler (for Camunda 7 or 8), not in
SpiffWorkflow's own editor. Before the engine parses an uploaded model, this module rewrites the
parsed XML tree (never the stored text) so that:

- bpmn.io's default ``isExecutable="false"`` is taken as executable: uploading a model to an
  item is the department's intent to run it;
- Camunda's ``camunda:properties`` / Zeebe's ``zeebe:properties`` become the platform's
  ``spiffworkflow:properties`` (role, status, decisions, outcome, separation_of_duties);
- ``camunda:candidateGroups`` (or Zeebe's assignment) naming one platform role sets ``role``;
- ``camunda:decisionRef`` / ``zeebe:calledDecision`` become the decision the task calls;
- conditions and DMN cells in the supported FEEL subset become Python (``feel.py``);

and refuses, with the element and line named, what would be silently ignored or run code:
listeners, input/output mappings, assignees, attributes the platform does not implement, and
properties without a name or a value (on which the engine's parser fails with a bare KeyError).
Every function returns the list of messages (translated); an empty list means "usable".
"""

from django.utils.translation import gettext as _
from lxml import etree

from . import feel

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS}

ROLES = ("clerk", "reviewer", "approver", "applicant")

# Camunda attributes that change nothing the platform does (forms are the item's; jobs, history
# and versions are Camunda's engine concerns) or that are read here. Any other camunda:/zeebe:
# attribute is refused rather than silently ignored.
CAMUNDA_IGNORED_ATTRIBUTES = {
    "formKey",
    "formRef",
    "formRefBinding",
    "formRefVersion",
    "asyncBefore",
    "asyncAfter",
    "exclusive",
    "jobPriority",
    "versionTag",
    "historyTimeToLive",
    "isStartableInTasklist",
    "candidateStarterGroups",
    "candidateStarterUsers",
    "decisionRefBinding",
    "decisionRefVersion",
    "decisionRefVersionTag",
    "decisionRefTenantId",
    "mapDecisionResult",
    "resultVariable",
    "taskPriority",
}
CAMUNDA_READ_ATTRIBUTES = {"candidateGroups", "decisionRef"}
# Extension elements that describe and run nothing: forms (the item's form is used) and the
# properties read here. Listeners, mappings, connectors and scripts run code: refused.
CAMUNDA_IGNORED_ELEMENTS = {
    "properties",
    "property",
    "formData",
    "formField",
    "validation",
    "constraint",
    "value",
    "failedJobRetryTimeCycle",
}
ZEEBE_IGNORED_ELEMENTS = {
    "properties",
    "property",
    "calledDecision",
    "assignmentDefinition",
    "formDefinition",
    "userTask",
}
CONDITION_LANGUAGES = {"", "python", "feel", "juel", "http://www.omg.org/spec/feel/20140401"}


def where(element: etree._Element) -> str:
    """'element <id> (line N)' for messages; the line helps people editing the XML by hand."""
    return _("element %(id)s (line %(line)s)") % {
        "id": element.get("id") or etree.QName(element).localname,
        "line": element.sourceline or "?",
    }


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _owner(element: etree._Element) -> etree._Element:
    """The flow element an extension belongs to (for messages)."""
    node = element
    while node is not None and (not node.get("id") or etree.QName(node).namespace != BPMN_NS):
        node = node.getparent()
    return node if node is not None else element


def _extension_elements(element: etree._Element) -> etree._Element:
    """The element's bpmn:extensionElements, created where the schema wants it (after any
    bpmn:documentation) when missing."""
    found = element.find(f"{{{BPMN_NS}}}extensionElements")
    if found is not None:
        return found
    created = etree.Element(f"{{{BPMN_NS}}}extensionElements")
    position = 0
    for index, child in enumerate(element):
        if isinstance(child.tag, str) and child.tag == f"{{{BPMN_NS}}}documentation":
            position = index + 1
    element.insert(position, created)
    return created


def _spiff_properties(element: etree._Element) -> etree._Element:
    extensions = _extension_elements(element)
    found = extensions.find(f"{{{SPIFF_NS}}}properties")
    if found is None:
        found = etree.SubElement(extensions, f"{{{SPIFF_NS}}}properties")
    return found


def _set_property(element: etree._Element, name: str, value: str, source: str, errors: list[str]) -> None:
    """Add a platform property to a flow element, refusing a conflicting one already there."""
    properties = _spiff_properties(element)
    for existing in properties.findall(f"{{{SPIFF_NS}}}property"):
        if existing.get("name") == name:
            if existing.get("value") != value:
                errors.append(
                    _(
                        "%(where)s sets property %(name)s twice with different values "
                        "(%(first)s and %(second)s, from %(source)s); keep one."
                    )
                    % {
                        "where": where(element),
                        "name": name,
                        "first": repr(existing.get("value")),
                        "second": repr(value),
                        "source": source,
                    }
                )
            return
    etree.SubElement(properties, f"{{{SPIFF_NS}}}property", name=name, value=value)


def _read_properties(container: etree._Element, namespace: str, errors: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for prop in container.findall(f"{{{namespace}}}property"):
        name, value = prop.get("name"), prop.get("value")
        if not (name or "").strip() or value is None:
            errors.append(
                _("%(where)s has a property without a name or a value; give both (e.g. role = reviewer).")
                % {"where": where(_owner(prop))}
            )
            continue
        pairs.append((name.strip(), value))
    return pairs


def _set_role(element: etree._Element, groups: str, source: str, errors: list[str]) -> None:
    values = [g.strip() for g in groups.split(",") if g.strip()]
    if len(values) != 1 or values[0] not in ROLES:
        errors.append(
            _(
                "%(where)s: candidate groups %(found)s are not a platform role. Tasks go to one role "
                "of the item's department: write exactly one of %(allowed)s."
            )
            % {"where": where(element), "found": repr(groups), "allowed": ", ".join(ROLES)}
        )
        return
    _set_property(element, "role", values[0], source, errors)


def _called_decision(element: etree._Element, decision: str, errors: list[str]) -> None:
    decision = decision.strip()
    if not decision or "${" in decision or decision.startswith("="):
        errors.append(
            _(
                "%(where)s: the decision reference must be the id of a decision in the DMN file "
                "(found %(found)s)."
            )
            % {"where": where(element), "found": repr(decision)}
        )
        return
    extensions = _extension_elements(element)
    existing = extensions.find(f"{{{SPIFF_NS}}}calledDecisionId")
    if existing is not None:
        if (existing.text or "").strip() != decision:
            errors.append(
                _("%(where)s calls two different decisions (%(first)s and %(second)s); keep one.")
                % {"where": where(element), "first": repr(existing.text), "second": repr(decision)}
            )
        return
    etree.SubElement(extensions, f"{{{SPIFF_NS}}}calledDecisionId").text = decision


def _refuse_unknown(element: etree._Element, errors: list[str]) -> None:
    """camunda:/zeebe: attributes and extension elements the platform does not implement."""
    for attr in element.attrib:
        qname = etree.QName(attr)
        if qname.namespace in (CAMUNDA_NS, ZEEBE_NS) and qname.localname not in (
            CAMUNDA_IGNORED_ATTRIBUTES | CAMUNDA_READ_ATTRIBUTES
        ):
            errors.append(
                _(
                    "%(where)s: the Camunda setting %(attr)s is not supported on this platform "
                    "(tasks go to roles, deadlines come from the item, nothing runs code); remove it."
                )
                % {"where": where(element), "attr": qname.localname}
            )
    namespace = etree.QName(element).namespace
    allowed = {CAMUNDA_NS: CAMUNDA_IGNORED_ELEMENTS, ZEEBE_NS: ZEEBE_IGNORED_ELEMENTS}.get(namespace)
    parent = element.getparent()
    top_level = parent is not None and parent.tag == f"{{{BPMN_NS}}}extensionElements"
    if allowed is not None and top_level and _local(element) not in allowed:
        errors.append(
            _(
                "%(where)s: the Camunda extension %(tag)s is not supported on this platform "
                "(listeners, mappings and connectors run code); remove it."
            )
            % {"where": where(_owner(element)), "tag": _local(element)}
        )


def normalize_bpmn(root: etree._Element) -> list[str]:
    """Rewrite ``root`` (a parsed BPMN document) into the platform's conventions in place."""
    errors: list[str] = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        process.set("isExecutable", "true")
    for element in list(root.iter(etree.Element)):
        _refuse_unknown(element, errors)
        qname = etree.QName(element)
        if qname.namespace == SPIFF_NS and qname.localname == "properties":
            _read_properties(element, SPIFF_NS, errors)
        if qname.namespace != BPMN_NS:
            continue
        local = qname.localname
        extensions = element.find(f"{{{BPMN_NS}}}extensionElements")
        if extensions is not None:
            for namespace, label in ((CAMUNDA_NS, "camunda:properties"), (ZEEBE_NS, "zeebe:properties")):
                for container in extensions.findall(f"{{{namespace}}}properties"):
                    for name, value in _read_properties(container, namespace, errors):
                        _set_property(element, name, value, label, errors)
                    extensions.remove(container)
        if local == "userTask":
            groups = element.get(f"{{{CAMUNDA_NS}}}candidateGroups")
            if groups is not None:
                _set_role(element, groups, "camunda:candidateGroups", errors)
            for assignment in element.iter(f"{{{ZEEBE_NS}}}assignmentDefinition"):
                if assignment.get("candidateGroups"):
                    _set_role(element, assignment.get("candidateGroups"), "zeebe:candidateGroups", errors)
                if assignment.get("assignee") or assignment.get("candidateUsers"):
                    errors.append(
                        _(
                            "%(where)s is assigned to named people; tasks go to a role of the item's "
                            "department: remove the assignee and set the role."
                        )
                        % {"where": where(element)}
                    )
        elif local == "businessRuleTask":
            reference = element.get(f"{{{CAMUNDA_NS}}}decisionRef")
            if reference is not None:
                _called_decision(element, reference, errors)
            for called in element.iter(f"{{{ZEEBE_NS}}}calledDecision"):
                _called_decision(element, called.get("decisionId") or "", errors)
        elif local == "conditionExpression":
            language = (element.get("language") or "").strip().lower()
            if language not in CONDITION_LANGUAGES:
                errors.append(
                    _(
                        "%(where)s: the condition is written in %(language)s; conditions may only "
                        'compare values (e.g. decision == "accept"), scripts are not allowed.'
                    )
                    % {"where": where(_owner(element)), "language": language}
                )
            elif element.text is not None:
                element.text = feel.condition(element.text)
    return errors


DMN_ID_ELEMENTS = ("decision", "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry")


def normalize_dmn(root: etree._Element) -> list[str]:
    """Rewrite ``root`` (a parsed DMN document): FEEL cells as Python, ids and names checked."""
    errors: list[str] = []
    for element in root.iter(etree.Element):
        local = _local(element)
        if local in DMN_ID_ELEMENTS and not (element.get("id") or "").strip():
            errors.append(
                _("The DMN %(tag)s at line %(line)s needs an id attribute.")
                % {"tag": local, "line": element.sourceline or "?"}
            )
        if local == "output" and not (element.get("name") or "").strip():
            errors.append(
                _(
                    "Output %(where)s needs a name: the field its result is stored in, which "
                    "conditions then test (in dmn-js: the output column's header, “Output name”)."
                )
                % {"where": where(element)}
            )
        if local != "text" or element.getparent() is None:
            continue
        parent = _local(element.getparent())
        if parent == "inputEntry":
            try:
                python = feel.unary_tests(element.text)
            except feel.NotFeel:
                continue  # not the FEEL subset: checked as Python, refused with a message if not
            element.text = "-" if python is None else python
        elif parent in ("outputEntry", "inputExpression"):
            element.text = feel.expression(element.text)
    return errors
