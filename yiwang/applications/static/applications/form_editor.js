/* The application form editor (issue 9 §3): a list of fields that writes the JSON Schema
   (the subset yiwang's schemaforms reads) into the raw JSON field, which stays editable for
   experts; the list follows what they type. Keys the list does not manage (pattern,
   maxLength, minimum, default …) are kept as they are. The server checks what is saved. */
(function () {
  "use strict";
  var dataNode = document.getElementById("editor-data");
  var list = document.getElementById("editor-fields");
  if (!dataNode || !list) return;
  var data = JSON.parse(dataNode.textContent);
  var text = data.text;
  var raw = document.querySelector("#editor-form textarea[name='s-schema']");
  var problem = document.getElementById("editor-json-problem");
  var statusNode = document.getElementById("editor-status");
  var addButton = document.getElementById("editor-add");
  var STRING_ONLY = ["format", "minLength", "maxLength", "pattern", "x-widget"];
  var NUMBER_ONLY = ["minimum", "maximum"];
  var CHOICE_ONLY = ["enum", "x-enum-titles", "x-enum-titles-en"];

  var schema = null; // the last readable schema
  var fields = []; // [{name, prop, required}]

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function kindOf(prop) {
    if (Array.isArray(prop.enum)) return "choice";
    if (prop.type === "boolean") return "boolean";
    if (prop.type === "integer" || prop.type === "number") return prop.type;
    if (prop.format === "date" || prop.format === "email") return prop.format;
    if (prop["x-widget"] === "textarea") return "textarea";
    return "text";
  }
  function setKind(prop, kind) {
    var type = { integer: "integer", number: "number", boolean: "boolean" }[kind] || "string";
    prop.type = type;
    if (type !== "string") STRING_ONLY.forEach(function (k) { delete prop[k]; });
    if (type !== "integer" && type !== "number") NUMBER_ONLY.forEach(function (k) { delete prop[k]; });
    if (kind !== "choice") CHOICE_ONLY.forEach(function (k) { delete prop[k]; });
    if (kind === "date" || kind === "email") prop.format = kind; else delete prop.format;
    if (kind === "textarea") prop["x-widget"] = "textarea"; else delete prop["x-widget"];
    if (kind === "choice" && !Array.isArray(prop.enum)) { prop.enum = ["a"]; prop["x-enum-titles"] = ["A"]; }
    if ("default" in prop) delete prop["default"];
  }
  function choicesText(prop) {
    var titles = prop["x-enum-titles"] || [];
    var english = prop["x-enum-titles-en"] || [];
    return (prop.enum || []).map(function (v, i) {
      return [v, titles[i] || "", english[i] || ""].join(" | ");
    }).join("\n");
  }
  function setChoices(prop, value) {
    var rows = value.split("\n").map(function (line) { return line.split("|").map(function (s) { return s.trim(); }); })
      .filter(function (row) { return row[0]; });
    prop.enum = rows.map(function (r) { return r[0]; });
    prop["x-enum-titles"] = rows.map(function (r) { return r[1] || r[0]; });
    if (rows.some(function (r) { return r[2]; })) prop["x-enum-titles-en"] = rows.map(function (r) { return r[2] || r[1] || r[0]; });
    else delete prop["x-enum-titles-en"];
  }
  function setText(prop, key, value) {
    if (value.trim()) prop[key] = value.trim(); else delete prop[key];
  }

  function write() {
    var out = {};
    Object.keys(schema).forEach(function (k) { if (k !== "properties" && k !== "required") out[k] = schema[k]; });
    out.type = "object";
    out.properties = {};
    fields.forEach(function (f) { out.properties[f.name] = f.prop; });
    var required = fields.filter(function (f) { return f.required; }).map(function (f) { return f.name; });
    if (required.length) out.required = required;
    schema = out;
    raw.value = JSON.stringify(out, null, 2);
    problem.hidden = true;
  }
  function read() {
    var parsed;
    try { parsed = JSON.parse(raw.value); } catch (error) {
      problem.textContent = fill(text.bad_json, { error: error.message });
      problem.hidden = false;
      return false;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) ||
        !parsed.properties || typeof parsed.properties !== "object" || Array.isArray(parsed.properties)) {
      problem.textContent = text.not_object;
      problem.hidden = false;
      return false;
    }
    problem.hidden = true;
    schema = parsed;
    var required = Array.isArray(parsed.required) ? parsed.required : [];
    fields = Object.keys(parsed.properties).map(function (name) {
      var prop = parsed.properties[name];
      return { name: name, prop: prop && typeof prop === "object" ? prop : {}, required: required.indexOf(name) >= 0 };
    });
    return true;
  }

  var uid = 0;
  function control(label, node, hint) {
    uid += 1;
    node.id = "fe-" + uid;
    var wrap = el("div", { "class": "field" }, [el("label", { "for": node.id, text: label })]);
    wrap.appendChild(node);
    return wrap;
  }
  function input(value) { var n = el("input", { type: "text" }); n.value = value || ""; return n; }
  function options(node, items, value) {
    items.forEach(function (o) {
      var option = el("option", { value: o.value, text: o.label });
      if (o.value === value) option.selected = true;
      node.appendChild(option);
    });
    return node;
  }

  function renderField(f, index) {
    var prop = f.prop;
    var kind = kindOf(prop);
    var item = el("li");
    var legendText = fill(text.field, { n: index + 1 }) + ": " + (prop.title || f.name);
    var box = el("fieldset", {}, [el("legend", { text: legendText })]);
    var grid = el("div", { "class": "editor-grid" });

    var name = input(f.name);
    name.setAttribute("pattern", "[a-z][a-z0-9_]{0,39}");
    name.setAttribute("data-key", "name");
    name.addEventListener("change", function () { f.name = name.value.trim(); write(); });
    grid.appendChild(control(text.name, name));

    var type = options(el("select", { "data-key": "type" }), data.types, kind);
    type.addEventListener("change", function () { setKind(prop, type.value); write(); renderAll(index, "type"); });
    grid.appendChild(control(text.type, type));

    [["title", text.title], ["x-title-en", text.title_en], ["description", text.hint], ["x-description-en", text.hint_en]]
      .forEach(function (pair) {
        var node = input(prop[pair[0]]);
        node.setAttribute("data-key", pair[0]);
        node.addEventListener("change", function () { setText(prop, pair[0], node.value); write(); });
        grid.appendChild(control(pair[1], node));
      });

    // One list: the applicant's own identity (x-source) and the government facts the
    // department's standing grants cover (x-fact, fetched through the data exchange).
    var facts = [{ value: "", label: text.no_source }].concat(data.facts);
    var bound = prop["x-fact"];
    var current = bound && typeof bound === "object"
      ? "fact:" + bound.resource + ":" + bound.field + ":" + (bound.derive || "")
      : prop["x-source"] || "";
    if (current && !facts.some(function (o) { return o.value === current; })) {
      facts.push({ value: current, label: fill(text.unknown_fact, { fact: current.replace(/^fact:/, "") }) });
    }
    var source = options(el("select", { "data-key": "x-source" }), facts, current);
    source.addEventListener("change", function () {
      var chosen = data.facts.filter(function (o) { return o.value === source.value; })[0];
      delete prop["x-source"];
      delete prop["x-fact"];
      if (source.value === current && bound) {
        prop["x-fact"] = bound;  // kept as it was (not among this department's grants now)
      } else if (chosen && chosen.fact) {
        prop["x-fact"] = chosen.fact;
        if (chosen.type !== prop.type) { setKind(prop, chosen.type); write(); renderAll(index, "x-source"); return; }
      } else if (source.value) {
        prop["x-source"] = source.value;
      }
      write();
    });
    grid.appendChild(control(text.source, source));

    if (kind === "choice") {
      var choices = el("textarea", { rows: "4", "data-key": "enum" });
      choices.value = choicesText(prop);
      choices.addEventListener("change", function () { setChoices(prop, choices.value); write(); });
      grid.appendChild(control(text.choices, choices));
    }
    box.appendChild(grid);

    var required = el("input", { type: "checkbox", "data-key": "required" });
    required.checked = f.required;
    required.addEventListener("change", function () { f.required = required.checked; write(); });
    uid += 1;
    required.id = "fe-" + uid;
    box.appendChild(el("div", { "class": "field checkbox" }, [required, el("label", { "for": required.id, text: text.required })]));

    var actions = el("div", { "class": "editor-actions" });
    [["up", -1], ["down", 1]].forEach(function (pair) {
      var button = el("button", { type: "button", "class": "secondary", "data-action": pair[0],
        "aria-label": text[pair[0]] + ": " + (prop.title || f.name), text: text[pair[0]] });
      var target = index + pair[1];
      if (target < 0 || target >= fields.length) button.disabled = true;
      button.addEventListener("click", function () {
        var moved = fields.splice(index, 1)[0];
        fields.splice(target, 0, moved);
        write();
        renderAll(target, pair[0]);
        statusNode.textContent = text.moved;
      });
      actions.appendChild(button);
    });
    var remove = el("button", { type: "button", "class": "secondary", "data-action": "remove",
      "aria-label": text.remove + ": " + (prop.title || f.name), text: text.remove });
    remove.addEventListener("click", function () {
      fields.splice(index, 1);
      write();
      renderAll(Math.min(index, fields.length - 1), "remove");
      statusNode.textContent = text.removed;
    });
    actions.appendChild(remove);
    box.appendChild(actions);
    item.appendChild(box);
    return item;
  }
  function renderAll(focusIndex, focusAction) {
    list.textContent = "";
    fields.forEach(function (f, i) { list.appendChild(renderField(f, i)); });
    if (focusIndex === undefined || focusIndex < 0) return;
    var row = list.children[focusIndex];
    if (!row) return;
    var target = row.querySelector("[data-action='" + focusAction + "']:not([disabled])") ||
      row.querySelector("[data-key='" + focusAction + "']") || row.querySelector("input");
    if (target) target.focus();
  }

  addButton.hidden = false;
  addButton.addEventListener("click", function () {
    var n = fields.length + 1;
    var names = fields.map(function (f) { return f.name; });
    while (names.indexOf("field_" + n) >= 0) n += 1;
    fields.push({ name: "field_" + n, prop: { type: "string", title: "" }, required: false });
    write();
    renderAll(fields.length - 1, "title");
    statusNode.textContent = text.added;
  });
  raw.addEventListener("input", function () { if (read()) renderAll(); });
  if (read()) renderAll();
})();
