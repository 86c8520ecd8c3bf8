// The flow builder: bpmn-js's modeler draws and edits the BPMN, and this side form edits Telora's
// extensions through bpmn-js's modeling API (so every change is on the undo stack): the service task
// from the registry with its inputs, the desk, due time and form fields of a user task, conditions on
// sequence flows, timers, and the desk of a lane (a user task without a desk of its own goes to its lane's
// desk, as the engine reads it; moving a user task into another lane gives it that lane's desk). Save posts the document; the server validates it and answers the new draft
// or every problem with its line and element id, listed beside the diagram.
(function () {
  "use strict";

  // Our extension attributes and elements (namespace https://telora.org/bpmn), so bpmn-js reads and
  // writes them as typed properties instead of dropping or mangling them.
  const TELORA = {
    name: "Telora", uri: "https://telora.org/bpmn", prefix: "telora", xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "ServiceTaskExt", extends: ["bpmn:ServiceTask"],
        properties: [{ name: "task", isAttr: true, type: "String" }] },
      { name: "UserTaskExt", extends: ["bpmn:UserTask"],
        properties: [{ name: "desk", isAttr: true, type: "String" }, { name: "due", isAttr: true, type: "String" },
          { name: "calendar", isAttr: true, type: "String" }] },
      { name: "TimerEventExt", extends: ["bpmn:BoundaryEvent", "bpmn:IntermediateCatchEvent", "bpmn:StartEvent"],
        properties: [{ name: "calendar", isAttr: true, type: "String" }] },
      { name: "LaneExt", extends: ["bpmn:Lane"],
        properties: [{ name: "desk", isAttr: true, type: "String" }] },
      { name: "ProcessExt", extends: ["bpmn:Process"],
        properties: [{ name: "failureDesk", isAttr: true, type: "String" }] },
      { name: "Input", superClass: ["Element"],
        properties: [{ name: "name", isAttr: true, type: "String" }, { name: "expression", isAttr: true, type: "String" }] },
      { name: "Output", superClass: ["Element"],
        properties: [{ name: "name", isAttr: true, type: "String" }, { name: "target", isAttr: true, type: "String" }] },
      { name: "Field", superClass: ["Element"],
        properties: ["name", "label", "type", "choices", "required"].map((n) => ({ name: n, isAttr: true, type: "String" })) },
    ],
  };
  const TIMER_KINDS = [["timeDuration", "duration (PT2H, P2D)"], ["timeDate", "date (2026-04-01T00:00:00+00:00)"],
    ["timeCycle", "cycle (R3/PT1H)"]];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) if (child) node.append(child);
    return node;
  }

  function row(label, control, help) {
    const id = control.id || (control.id = "prop-" + Math.random().toString(36).slice(2, 8));
    return el("div", { class: "mb-2" }, el("label", { class: "form-label", for: id, text: label }), control,
      help ? el("div", { class: "form-hint", text: help }) : null);
  }

  function select(name, options, current, onchange) {
    const node = el("select", { class: "form-select", name, onchange });
    for (const [value, label] of options) node.append(el("option", { value, text: label, selected: value === current }));
    return node;
  }

  function input(name, value, onchange, attrs) {
    return el("input", Object.assign({ class: "form-control", name, value: value || "", onchange }, attrs || {}));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const canvasNode = document.getElementById("builder-canvas");
    const side = document.getElementById("builder-side");
    const problemsNode = document.getElementById("builder-problems");
    const resultNode = document.getElementById("builder-result");
    const saveButton = document.getElementById("builder-save");
    if (!canvasNode || typeof BpmnJS === "undefined") return;
    const palette = JSON.parse(document.getElementById("builder-palette").textContent);
    const xml = JSON.parse(document.getElementById("bpmn-diagram").textContent);
    const csrf = document.querySelector("#builder-csrf input[name=csrfmiddlewaretoken]").value;
    const tasksByKey = Object.fromEntries(palette.service_tasks.map((t) => [t.key, t]));

    const modeler = new BpmnJS({ container: canvasNode, moddleExtensions: { telora: TELORA } });
    try {
      await modeler.importXML(xml);
      // Fit the drawing beside the palette (which sits over the canvas's left edge), never above 100 %.
      const view = modeler.get("canvas").viewbox();
      const margin = 140;
      const scale = Math.min((view.outer.width - margin - 20) / Math.max(view.inner.width, 1),
        (view.outer.height - 40) / Math.max(view.inner.height, 1), 1);
      modeler.get("canvas").viewbox({ x: view.inner.x - margin / scale, y: view.inner.y - 20 / scale,
        width: view.outer.width / scale, height: view.outer.height / scale });
    } catch (err) {
      problemsNode.replaceChildren(el("div", { class: "alert alert-danger", text: "The document cannot be drawn: " + err.message }));
      return;
    }
    const modeling = modeler.get("modeling");
    const moddle = modeler.get("moddle");
    const registry = modeler.get("elementRegistry");
    const selection = modeler.get("selection");
    const canvas = modeler.get("canvas");
    let current = null;

    const bo = (element) => element.businessObject;
    const is = (element, type) => bo(element).$instanceOf(type);
    const extensions = (element, type) => {
      const ext = bo(element).extensionElements;
      return ext ? (ext.get("values") || []).filter((v) => v.$type === type) : [];
    };

    // Replace the extension elements of one type, keeping any others the document carries.
    function setExtensions(element, type, items) {
      const ext = bo(element).extensionElements;
      const others = ext ? (ext.get("values") || []).filter((v) => v.$type !== type) : [];
      const values = others.concat(items.map((props) => moddle.create(type, props)));
      const next = values.length ? moddle.create("bpmn:ExtensionElements", { values }) : undefined;
      modeling.updateProperties(element, { extensionElements: next });
    }

    function update(element, props) {
      modeling.updateProperties(element, props);
    }

    function serviceForm(element) {
      const key = bo(element).get("telora:task") || "";
      const spec = tasksByKey[key];
      const options = [["", "— choose a registered task —"]].concat(
        palette.service_tasks.map((t) => [t.key, t.key + (t.description ? " · " + t.description : "")]));
      if (key && !spec) options.push([key, key + " (not registered)"]);
      const parts = [row("Service task", select("service_task", options, key, (e) => {
        const chosen = tasksByKey[e.target.value];
        const inputs = extensions(element, "telora:Input");
        const kept = chosen ? chosen.inputs.map((name) => ({ name,
          expression: (inputs.find((i) => i.name === name) || {}).expression || name })) : [];
        modeling.updateProperties(element, { "telora:task": e.target.value || undefined });
        setExtensions(element, "telora:Input", kept);
        setExtensions(element, "telora:Output", []);
        render(element);
      }), spec && spec.description)];
      if (spec) {
        const inputs = Object.fromEntries(extensions(element, "telora:Input").map((i) => [i.name, i.expression]));
        const outputs = Object.fromEntries(extensions(element, "telora:Output").map((o) => [o.name, o.target]));
        const saveInputs = () => setExtensions(element, "telora:Input",
          spec.inputs.map((name) => ({ name, expression: side.querySelector(`[name="input-${name}"]`).value.trim() })));
        const saveOutputs = () => setExtensions(element, "telora:Output", spec.outputs
          .map((name) => ({ name, target: side.querySelector(`[name="output-${name}"]`).value.trim() }))
          .filter((o) => o.target));
        parts.push(el("div", { class: "fw-bold mt-3 mb-1", text: "Inputs (expressions over the flow's data)" }));
        for (const name of spec.inputs) parts.push(row(name, input("input-" + name, inputs[name], saveInputs)));
        if (spec.outputs.length) {
          parts.push(el("div", { class: "fw-bold mt-3 mb-1", text: "Outputs (data name to store each in; empty: its own name)" }));
          for (const name of spec.outputs) parts.push(row(name, input("output-" + name, outputs[name], saveOutputs)));
        }
      }
      return parts;
    }

    function fieldRow(element, field, index, all) {
      const save = () => setExtensions(element, "telora:Field", all.map((f, i) => {
        const box = side.querySelector(`[data-field="${i}"]`);
        const value = (n) => box.querySelector(`[name="${n}"]`);
        return { name: value("field_name").value.trim(), label: value("field_label").value.trim(),
          type: value("field_type").value, choices: value("field_choices").value.trim() || undefined,
          required: value("field_required").checked ? "true" : "false" };
      }));
      const remove = () => {
        setExtensions(element, "telora:Field", all.filter((_, i) => i !== index).map(fieldProps));
        render(element);
      };
      return el("div", { class: "border rounded p-2 mb-2", "data-field": index },
        row("Name", input("field_name", field.name, save)),
        row("Label", input("field_label", field.label, save)),
        row("Type", select("field_type", palette.field_types.map((t) => [t, t]), field.type || "text", save)),
        row("Choices (for choice, comma separated)", input("field_choices", field.choices, save)),
        el("label", { class: "form-check" }, el("input", { class: "form-check-input", type: "checkbox", name: "field_required",
          checked: field.required === "true", onchange: save }), el("span", { class: "form-check-label", text: "required" })),
        el("button", { type: "button", class: "btn btn-sm btn-ghost-danger mt-1", text: "Remove the field", onclick: remove }));
    }

    const fieldProps = (f) => ({ name: f.name, label: f.label, type: f.type, choices: f.choices, required: f.required });

    // The lanes as the engine reads them: a lane's desk is its telora:desk, else its name, else its id.
    const laneDesk = (lane) => bo(lane).get("telora:desk") || bo(lane).name || bo(lane).id;
    const knownDesk = (code) => palette.desks.some((d) => d.code === code);
    function laneAt(point) {
      const lanes = registry.filter((e) => is(e, "bpmn:Lane") && point.x >= e.x && point.x <= e.x + e.width &&
        point.y >= e.y && point.y <= e.y + e.height);
      return lanes.sort((a, b) => a.width * a.height - b.width * b.height)[0] || null;  // the innermost
    }
    const centre = (shape, delta) => ({ x: shape.x + shape.width / 2 - ((delta && delta.x) || 0),
      y: shape.y + shape.height / 2 - ((delta && delta.y) || 0) });
    function laneOf(element) {
      return registry.filter((e) => is(e, "bpmn:Lane") && (bo(e).flowNodeRef || []).includes(bo(element)))[0] ||
        laneAt(centre(element));
    }

    // A user task moved (or drawn) into another lane takes that lane's desk: its own telora:desk is dropped so
    // the lane's applies, when the lane names a desk of this brand.
    function followLanes(shapes, delta) {
      for (const shape of shapes) {
        if (!shape.businessObject || !is(shape, "bpmn:UserTask")) continue;
        const lane = laneAt(centre(shape));
        if (!lane || (delta && laneAt(centre(shape, delta)) === lane)) continue;
        if (knownDesk(laneDesk(lane)) && bo(shape).get("telora:desk")) update(shape, { "telora:desk": undefined });
      }
    }

    function laneForm(element) {
      const desk = bo(element).get("telora:desk") || "";
      const options = [["", "— the lane's name (" + (bo(element).name || bo(element).id) + ") —"]]
        .concat(palette.desks.map((d) => [d.code, d.name + " (" + d.code + ")"]));
      if (desk && !knownDesk(desk)) options.push([desk, desk + " (no such desk here)"]);
      return [row("Desk of this lane", select("lane_desk", options, desk,
        (e) => update(element, { "telora:desk": e.target.value || undefined })),
        "User tasks in this lane without a desk of their own wait at this desk.")];
    }

    function userForm(element) {
      const desk = bo(element).get("telora:desk") || "";
      const lane = laneOf(element);
      const fromLane = lane ? laneDesk(lane) : "";
      const options = [["", fromLane ? "— the lane's desk: " + fromLane + " —" : "— choose a desk —"]]
        .concat(palette.desks.map((d) => [d.code, d.name + " (" + d.code + ")"]));
      if (desk && !palette.desks.some((d) => d.code === desk)) options.push([desk, desk + " (no such desk here)"]);
      const fields = extensions(element, "telora:Field");
      return [
        row("Desk", select("desk", options, desk, (e) => update(element, { "telora:desk": e.target.value || undefined }))),
        row("Due (ISO 8601 duration, e.g. PT4H)", input("due", bo(element).get("telora:due"),
          (e) => update(element, { "telora:due": e.target.value.trim() || undefined }))),
        businessTime(element, "The due time counts the brand's business days and working hours (P1D: one " +
          "business day, PT4H: four working hours)."),
        el("div", { class: "fw-bold mt-3 mb-1", text: "Form fields" }),
        fields.map((f, i) => fieldRow(element, f, i, fields)),
        el("button", { type: "button", class: "btn btn-sm", "data-testid": "add-field", text: "Add a field", onclick: () => {
          setExtensions(element, "telora:Field", fields.map(fieldProps).concat([{ name: "field" + (fields.length + 1),
            label: "", type: "text", required: "false" }]));
          render(element);
        } }),
      ];
    }

    // telora:calendar="business": a due time or a timer's duration in the brand's business calendar.
    function businessTime(element, help) {
      return el("div", { class: "mb-2" }, el("label", { class: "form-check" }, el("input", {
        class: "form-check-input", type: "checkbox", name: "business_time",
        checked: bo(element).get("telora:calendar") === "business",
        onchange: (e) => update(element, { "telora:calendar": e.target.checked ? "business" : undefined }) }),
      el("span", { class: "form-check-label", text: "Business time" })), el("div", { class: "form-hint", text: help }));
    }

    function conditionForm(element) {
      const condition = bo(element).conditionExpression;
      return [row("Condition (e.g. decision == 'approved')", el("textarea", { class: "form-control", name: "condition",
        rows: 2, text: condition ? condition.body : "", onchange: (e) => {
          const body = e.target.value.trim();
          update(element, { conditionExpression: body ? moddle.create("bpmn:FormalExpression", { body }) : undefined });
        } }), "An expression of the restricted evaluator over the flow's data; empty: always taken.")];
    }

    function timerForm(element, definition) {
      const kind = TIMER_KINDS.map((k) => k[0]).find((k) => definition[k]) || "timeDuration";
      let value = definition[kind] ? definition[kind].body || "" : "";
      if (/^".*"$/.test(value)) value = value.slice(1, -1);
      const save = () => {
        const chosen = side.querySelector("[name=timer_kind]").value;
        const text = side.querySelector("[name=timer_value]").value.trim();
        const props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
        if (text) props[chosen] = moddle.create("bpmn:FormalExpression", { body: JSON.stringify(text) });
        modeling.updateModdleProperties(element, definition, props);
      };
      return [row("Timer", select("timer_kind", TIMER_KINDS, kind, save)),
        row("When", input("timer_value", value, save), "ISO 8601; stored as a quoted string."),
        businessTime(element, "A duration in the brand's business days and working hours (e.g. escalate after " +
          "P2D: two business days); days, hours and minutes only.")];
    }

    // Put a new user task between `source` and the step after it, moving later steps to the right.
    function insertDeskStep(source) {
      const outgoing = (source.outgoing || []).filter((c) => is(c, "bpmn:SequenceFlow"));
      const connection = outgoing[0];
      const later = registry.filter((e) => e.parent === source.parent && !e.waypoints && e.type !== "label" &&
        !e.host && e.x !== undefined && e.x > source.x + source.width - 1 && e !== source);
      if (later.length) modeling.moveElements(later, { x: 150, y: 0 });
      const centre = { x: source.x + source.width + 90, y: source.y + source.height / 2 };
      const shape = modeling.createShape({ type: "bpmn:UserTask" }, centre, source.parent);
      if (connection) {
        const target = connection.target;
        modeling.reconnectEnd(connection, shape, { x: shape.x, y: shape.y + shape.height / 2 });
        modeling.connect(shape, target);
      } else {
        modeling.connect(source, shape);
      }
      modeling.updateLabel(shape, "Desk step");
      selection.select(shape);
    }

    function render(element) {
      current = element;
      const root = canvas.getRootElement();
      if (!element || element === root) {
        const process = root.businessObject;
        const failure = process.get ? process.get("telora:failureDesk") || "" : "";
        side.replaceChildren(el("h4", { text: "The flow" }),
          el("p", { class: "text-secondary small", text: "Select a step, a sequence flow or a timer to edit it. " +
            "Use the palette on the left of the diagram to add elements." }),
          row("Failure desk (a failed service task waits here)", select("failure_desk",
            [["", "—"]].concat(palette.desks.map((d) => [d.code, d.name + " (" + d.code + ")"])), failure,
            (e) => update(root, { "telora:failureDesk": e.target.value || undefined }))));
        return;
      }
      const parts = [el("h4", { text: bo(element).$type.replace("bpmn:", "") })];
      parts.push(row("Id", input("element_id", bo(element).id, (e) => {
        const id = e.target.value.trim();
        if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(id) && !registry.get(id)) update(element, { id });
        else e.target.value = bo(element).id;
      }), "Steps are matched by id when two versions are compared."));
      if (element.type !== "label") {
        parts.push(row("Name", input("name", bo(element).name, (e) => modeling.updateLabel(element, e.target.value.trim()))));
      }
      if (is(element, "bpmn:ServiceTask")) parts.push(...serviceForm(element));
      if (is(element, "bpmn:UserTask")) parts.push(...userForm(element));
      if (is(element, "bpmn:Lane")) parts.push(...laneForm(element));
      if (is(element, "bpmn:SequenceFlow")) parts.push(...conditionForm(element));
      const timer = (bo(element).eventDefinitions || []).find((d) => d.$type === "bpmn:TimerEventDefinition");
      if (timer) parts.push(...timerForm(element, timer));
      if (is(element, "bpmn:FlowNode") && !is(element, "bpmn:EndEvent") && !is(element, "bpmn:BoundaryEvent")) {
        parts.push(el("button", { type: "button", class: "btn btn-outline-primary mt-3", "data-testid": "insert-desk-step",
          text: "Insert a desk step after this step", onclick: () => insertDeskStep(element) }));
      }
      side.replaceChildren(...parts.flat());
    }

    const eventBus = modeler.get("eventBus");
    eventBus.on("commandStack.elements.move.postExecuted", 250, (event) =>
      followLanes(event.context.shapes || [], event.context.delta));
    eventBus.on("commandStack.shape.create.postExecuted", 250, (event) => followLanes([event.context.shape], null));
    eventBus.on("selection.changed", (event) => render(event.newSelection[0] || null));
    eventBus.on("elements.changed", () => {
      if (!side.contains(document.activeElement) && current && (current === canvas.getRootElement() || registry.get(current.id))) {
        render(current);
      }
    });
    render(null);
    canvasNode.dataset.ready = "true";

    function showProblems(problems) {
      registry.forEach((e) => canvas.removeMarker(e, "telora-problem"));
      const items = problems.map((p) => {
        const where = [p.line ? "line " + p.line : "", p.element ? "element " + p.element : ""].filter(Boolean).join(", ");
        const target = p.element && registry.get(p.element);
        if (target) canvas.addMarker(target, "telora-problem");
        return el("li", { class: "list-group-item" + (target ? " list-group-item-action" : ""), "data-element": p.element || "",
          onclick: target ? () => { selection.select(target); canvas.scrollToElement(target); } : undefined },
          where ? el("strong", { text: where + ": " }) : null, p.message);
      });
      problemsNode.replaceChildren(...(items.length ? [el("div", { class: "alert alert-danger mb-2",
        text: "Not saved: fix these problems first." }), el("ul", { class: "list-group mb-3" }, items)] : []));
    }

    saveButton.addEventListener("click", async () => {
      saveButton.disabled = true;
      resultNode.replaceChildren();
      try {
        const { xml: document_ } = await modeler.saveXML({ format: true });
        const response = await fetch(saveButton.dataset.url, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify({ xml: document_ }) });
        const answer = await response.json().catch(() => ({ problems: [{ message: "the server answered " + response.status }] }));
        if (!response.ok) {
          showProblems(answer.problems || [{ message: "the server answered " + response.status }]);
          return;
        }
        showProblems([]);
        const publish = el("form", { method: "post", action: answer.publish_url, class: "d-inline" },
          el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf }),
          el("button", { class: "btn btn-success", "data-testid": "publish-saved", text: "Publish " + answer.label }));
        resultNode.replaceChildren(el("div", { class: "alert alert-success", "data-testid": "saved" },
          el("div", { class: "mb-2", text: "Saved as " + answer.label + " (draft). Running orders keep their version; " +
            "publish to start new ones on this one." }),
          publish, " ", el("a", { class: "btn", href: answer.url, text: "Open the draft" }), " ",
          el("a", { class: "btn", href: answer.diff_url, "data-testid": "saved-diff", text: "What changed" })));
      } catch (err) {
        showProblems([{ message: String(err.message || err) }]);
      } finally {
        saveButton.disabled = false;
      }
    });
  });
})();
