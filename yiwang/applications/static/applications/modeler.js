/* The in-browser process modeler (issue 9 §3): bpmn-js and dmn-js with a small panel for the
   platform's own properties of each step (role, status, decisions, outcome, conditions).
   The vocabularies and every word shown come from the server (the "modeler-data" JSON);
   this file only edits the diagram. Saving posts the XML to the server, which checks it
   exactly as an upload. */
(function () {
  "use strict";
  var dataNode = document.getElementById("modeler-data");
  if (!dataNode || typeof window.BpmnJS !== "function") return;
  var data = JSON.parse(dataNode.textContent);
  var vocab = data.vocabulary;
  var text = data.text;
  var form = document.getElementById("modeler-form");
  var bpmnField = form.querySelector("textarea[name=bpmn]");
  var dmnField = form.querySelector("textarea[name=dmn]");
  var statusNode = document.getElementById("modeler-status");
  var panelBody = document.getElementById("panel-body");
  var elementSelect = document.getElementById("panel-element");
  var dmnCanvas = document.getElementById("dmn-canvas");

  // The SpiffWorkflow extension elements the engine reads, described for bpmn-js's moddle.
  var SPIFF = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      { name: "CalledDecisionId", superClass: ["Element"],
        properties: [{ name: "value", type: "String", isBody: true }] }
    ]
  };

  var bpmn = new window.BpmnJS({ container: "#bpmn-canvas", moddleExtensions: { spiffworkflow: SPIFF } });
  var dmn = typeof window.DmnJS === "function" ? new window.DmnJS({ container: "#dmn-canvas" }) : null;
  var bpmnLoaded = false;
  var dmnActive = false;
  window.yiwangModeler = { bpmn: bpmn, dmn: dmn };

  var modeling = bpmn.get("modeling");
  var moddle = bpmn.get("moddle");
  var registry = bpmn.get("elementRegistry");
  var canvas = bpmn.get("canvas");
  var selection = bpmn.get("selection");
  var current = null;

  function say(message) { statusNode.textContent = message; }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key in node && typeof attrs[key] === "boolean") node[key] = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }
  var uid = 0;
  function labelled(label, control) {
    uid += 1;
    control.id = "panel-control-" + uid;
    return el("div", { "class": "field" }, [el("label", { "for": control.id, text: label }), control]);
  }
  function select(options, value) {
    var node = el("select");
    node.appendChild(el("option", { value: "", text: text.choose }));
    options.forEach(function (o) {
      var option = el("option", { value: o.value, text: o.label + " (" + o.value + ")" });
      if (o.value === value) option.selected = true;
      node.appendChild(option);
    });
    return node;
  }

  // --- the platform's properties (spiffworkflow:properties) ----------------------------------
  function extensionValues(bo) {
    return (bo.extensionElements && bo.extensionElements.values) || [];
  }
  function propertiesOf(bo) {
    var result = {};
    extensionValues(bo).forEach(function (value) {
      if (value.$type !== "spiffworkflow:Properties") return;
      (value.properties || []).forEach(function (p) { result[p.name] = p.value || ""; });
    });
    return result;
  }
  function setExtension(element, type, replacement) {
    var bo = element.businessObject;
    var values = extensionValues(bo).filter(function (v) { return v.$type !== type; });
    if (replacement) values.push(replacement);
    var ext = values.length ? moddle.create("bpmn:ExtensionElements", { values: values }) : undefined;
    modeling.updateProperties(element, { extensionElements: ext });
  }
  function setProperty(element, name, value) {
    var props = propertiesOf(element.businessObject);
    if (value) props[name] = value; else delete props[name];
    var names = Object.keys(props);
    var replacement = names.length ? moddle.create("spiffworkflow:Properties", {
      properties: names.map(function (n) { return moddle.create("spiffworkflow:Property", { name: n, value: props[n] }); })
    }) : null;
    setExtension(element, "spiffworkflow:Properties", replacement);
  }
  function calledDecision(bo) {
    var found = extensionValues(bo).filter(function (v) { return v.$type === "spiffworkflow:CalledDecisionId"; })[0];
    return found ? (found.value || "") : "";
  }

  // --- the panel ------------------------------------------------------------------------------
  function kindOf(element) {
    var type = element.type;
    if (element === canvas.getRootElement()) return "process";
    if (type === "bpmn:UserTask") return "user_task";
    if (type === "bpmn:EndEvent") return "end_event";
    if (type === "bpmn:BusinessRuleTask") return "rule_task";
    if (type === "bpmn:SequenceFlow") return "flow";
    return "other";
  }
  function describe(element) {
    var kind = kindOf(element);
    if (kind === "process") return text.process;
    var name = element.businessObject.name;
    return text[kind] + ": " + (name ? name + " (" + element.id + ")" : element.id);
  }
  function listElements() {
    var root = canvas.getRootElement();
    var chosen = current ? current.id : root.id;
    elementSelect.textContent = "";
    if (!root.businessObject) return;
    var all = [root].concat(registry.filter(function (e) {
      return e !== root && e.type !== "label" && e.businessObject && e.businessObject.$instanceOf("bpmn:FlowElement");
    }));
    all.forEach(function (e) {
      var option = el("option", { value: e.id, text: describe(e) });
      if (e.id === chosen) option.selected = true;
      elementSelect.appendChild(option);
    });
  }
  // Steps and the process carry both languages in one name, "中文 | English" (the server's
  // yiwang.lib.bilingual reads it and shows each reader their part): the panel edits the two
  // parts in separate fields and shows a name read back from a diagram split the same way.
  var SEPARATOR = " | ";
  function splitName(name) {
    var at = (name || "").indexOf(SEPARATOR);
    if (at < 0) return [name || "", ""];
    return [name.slice(0, at).trim(), name.slice(at + SEPARATOR.length).trim()];
  }
  function joinName(zh, en) {
    zh = zh.trim();
    en = en.trim();
    return en ? zh + SEPARATOR + en : zh;
  }
  function nameFields(element, kind) {
    var parts = splitName(element.businessObject.name);
    var zh = el("input", { type: "text", value: parts[0], name: "name_zh", lang: "zh-Hans" });
    var en = el("input", { type: "text", value: parts[1], name: "name_en", lang: "en" });
    function write() {
      var value = joinName(zh.value, en.value);
      if (value === (element.businessObject.name || "")) return;
      if (kind === "process") modeling.updateProperties(element, { name: value || undefined });
      else modeling.updateLabel(element, value);
    }
    zh.addEventListener("change", write);
    en.addEventListener("change", write);
    panelBody.appendChild(labelled(text.name_zh, zh));
    var field = labelled(text.name_en, en);
    var hint = el("p", { "class": "hint", id: en.id + "-hint", text: text.name_en_hint });
    en.setAttribute("aria-describedby", hint.id);
    field.appendChild(hint);
    panelBody.appendChild(field);
  }
  function render() {
    var element = current || canvas.getRootElement();
    var bo = element.businessObject;
    panelBody.textContent = "";
    if (!bo) return; // no diagram yet
    var kind = kindOf(element);
    var props = propertiesOf(bo);
    if (kind === "user_task" || kind === "process") {
      nameFields(element, kind);
    } else {
      var name = el("input", { type: "text", value: bo.name || "" });
      name.addEventListener("change", function () { modeling.updateLabel(element, name.value); });
      panelBody.appendChild(labelled(text.name, name));
    }
    if (kind === "user_task") {
      [["role", vocab.roles], ["status", vocab.statuses]].forEach(function (pair) {
        var control = select(pair[1], props[pair[0]] || "");
        control.name = pair[0];
        control.addEventListener("change", function () { setProperty(element, pair[0], control.value); });
        panelBody.appendChild(labelled(text[pair[0]], control));
      });
      var chosen = (props.decisions || "").split(",").map(function (d) { return d.trim(); });
      var box = el("fieldset", {}, [el("legend", { text: text.decisions })]);
      vocab.decisions.forEach(function (d) {
        var input = el("input", { type: "checkbox", name: "decisions", value: d.value });
        input.checked = chosen.indexOf(d.value) >= 0;
        input.addEventListener("change", function () {
          var values = Array.prototype.filter.call(box.querySelectorAll("input:checked"), function () { return true; })
            .map(function (i) { return i.value; });
          setProperty(element, "decisions", values.join(","));
        });
        box.appendChild(el("label", {}, [input, document.createTextNode(" " + d.label + " (" + d.value + ")")]));
      });
      panelBody.appendChild(box);
    } else if (kind === "end_event") {
      var outcome = select(vocab.outcomes, props.outcome || "completed");
      outcome.name = "outcome";
      outcome.addEventListener("change", function () { setProperty(element, "outcome", outcome.value); });
      panelBody.appendChild(labelled(text.outcome, outcome));
    } else if (kind === "rule_task") {
      var ref = el("input", { type: "text", value: calledDecision(bo), name: "decision_ref" });
      ref.addEventListener("change", function () {
        setExtension(element, "spiffworkflow:CalledDecisionId",
          ref.value.trim() ? moddle.create("spiffworkflow:CalledDecisionId", { value: ref.value.trim() }) : null);
      });
      panelBody.appendChild(labelled(text.decision_ref, ref));
    } else if (kind === "flow") {
      var expr = bo.conditionExpression ? (bo.conditionExpression.body || "") : "";
      var condition = el("input", { type: "text", value: expr, name: "condition", spellcheck: "false" });
      condition.addEventListener("change", function () {
        var value = condition.value.trim();
        modeling.updateProperties(element, {
          conditionExpression: value ? moddle.create("bpmn:FormalExpression", { body: value }) : undefined
        });
      });
      var field = labelled(text.condition, condition);
      var hint = el("p", { "class": "hint", id: condition.id + "-hint",
        text: fill(text.names, { names: data.names.join(", ") }) });
      condition.setAttribute("aria-describedby", hint.id);
      field.insertBefore(hint, condition);
      panelBody.appendChild(field);
    } else if (kind === "process") {
      var relax = el("input", { type: "checkbox", name: "relax" });
      relax.checked = props[vocab.relax_property] === vocab.relax_value;
      relax.addEventListener("change", function () {
        setProperty(element, vocab.relax_property, relax.checked ? vocab.relax_value : "");
      });
      panelBody.appendChild(el("div", { "class": "field checkbox" }, [
        relax, el("label", { text: text.relax })
      ]));
      relax.id = "panel-relax";
      panelBody.lastChild.lastChild.setAttribute("for", "panel-relax");
      panelBody.appendChild(el("p", { "class": "hint", text: text.nothing }));
    } else {
      panelBody.appendChild(el("p", { "class": "hint", text: text.no_properties }));
    }
  }
  function refresh() {
    if (current && !registry.get(current.id)) current = null;
    listElements();
    if (!panelBody.contains(document.activeElement)) render();
  }

  bpmn.on("selection.changed", function (event) {
    current = event.newSelection.length === 1 ? event.newSelection[0] : null;
    listElements();
    render();
  });
  bpmn.on("commandStack.changed", function () {
    refresh();
    bpmn.saveXML({ format: true }).then(function (result) { bpmnField.value = result.xml; });
  });
  elementSelect.addEventListener("change", function () {
    var element = registry.get(elementSelect.value);
    if (!element || element === canvas.getRootElement()) { selection.select(null); current = null; render(); return; }
    selection.select(element);
    if (canvas.scrollToElement) canvas.scrollToElement(element);
  });

  function importBpmn(xml) {
    return bpmn.importXML(xml).then(function () {
      bpmnLoaded = true;
      current = null;
      canvas.zoom("fit-viewport");
      listElements();
      render();
    }).catch(function (error) {
      bpmnLoaded = false;
      say(fill(text.import_failed, { error: error.message }));
    });
  }
  function importDmn(xml) {
    if (!dmn) return Promise.resolve();
    dmnActive = !!xml.trim();
    dmnCanvas.hidden = !dmnActive;
    document.getElementById("dmn-add").hidden = dmnActive;
    document.getElementById("dmn-remove").hidden = !dmnActive;
    if (!dmnActive) return Promise.resolve();
    return dmn.importXML(xml).catch(function (error) {
      dmnActive = false;
      say(fill(text.import_failed, { error: error.message }));
    });
  }
  document.getElementById("dmn-add").addEventListener("click", function () {
    importDmn(data.new_dmn).then(function () { dmnField.value = data.new_dmn; });
  });
  document.getElementById("dmn-remove").addEventListener("click", function () {
    dmnField.value = "";
    importDmn("");
    say(text.no_dmn);
  });
  document.getElementById("xml-load").addEventListener("click", function () {
    Promise.all([importBpmn(bpmnField.value), importDmn(dmnField.value)]).then(function () {
      if (bpmnLoaded) say(text.loaded);
    });
  });

  form.addEventListener("submit", function (event) {
    if (form.dataset.exported === "1") return;
    event.preventDefault();
    var steps = [];
    if (bpmnLoaded) steps.push(bpmn.saveXML({ format: true }).then(function (r) { bpmnField.value = r.xml; }));
    if (dmn && dmnActive) steps.push(dmn.saveXML({ format: true }).then(function (r) { dmnField.value = r.xml; }));
    Promise.all(steps).then(function () {
      form.dataset.exported = "1";
      form.submit();
    }).catch(function (error) { say(fill(text.export_failed, { error: error.message })); });
  });

  importBpmn(bpmnField.value);
  importDmn(dmnField.value);
})();
