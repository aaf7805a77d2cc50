// The method picker: a compact checkbox per method the model supports, grouped by family,
// each with its one-line summary and its parameters behind an "options" toggle. Built from
// GET /explain; the ticks live in `chosen` (a Set the page keeps per family of model).
import { methodName } from "./method_texts.js";
import { el } from "./messages.js";

const FAMILIES = {
  gradient: "Gradients",
  cam: "Class activation maps",
  perturbation: "Perturbation",
};

export function supportedMethods(methods, model) {
  return methods.filter((method) => method.models.includes(model));
}

// onChange(key, ticked) after a box changes.
export function renderPicker(container, methods, chosen, onChange) {
  const families = [...new Set(methods.map((method) => method.family))];
  container.replaceChildren(
    ...families.map((family) =>
      el(
        "fieldset",
        { class: "method-group" },
        el("legend", { text: FAMILIES[family] || family }),
        ...methods.filter((m) => m.family === family).map((m) => methodControl(m, chosen, onChange)),
      ),
    ),
  );
  if (!methods.length) {
    container.append(el("p", { class: "note", text: "This model supports no explanation method." }));
  }
}

function methodControl(method, chosen, onChange) {
  const id = `method-${method.key}`;
  const box = el("input", {
    type: "checkbox",
    id,
    name: "method",
    value: method.key,
    checked: chosen.has(method.key),
    "aria-describedby": `${id}-summary`,
  });
  box.addEventListener("change", () => {
    if (box.checked) chosen.add(method.key);
    else chosen.delete(method.key);
    onChange(method.key, box.checked);
  });
  const parameters = Object.entries(method.parameters || {});
  return el(
    "div",
    { class: "method" },
    box,
    el("label", { for: id, text: methodName(method.key) }),
    el(
      "details",
      { class: "options" },
      el("summary", { "aria-label": `${methodName(method.key)}: about and options`, text: "ⓘ" }),
      el("p", { class: "hint", id: `${id}-summary`, text: method.summary }),
      ...parameters.map(([name, schema]) => parameterField(method.key, name, schema)),
    ),
  );
}

function parameterField(key, name, schema) {
  const id = `param-${key}-${name}`;
  const label = el("label", { for: id, text: schema.title || name });
  let input;
  if (Array.isArray(schema.enum)) {
    input = el("select", { id }, ...schema.enum.map((v) => el("option", { value: v, text: v })));
    input.value = schema.default ?? schema.enum[0];
  } else if (schema.type === "integer" || schema.type === "number") {
    input = el("input", {
      id,
      type: "number",
      step: schema.type === "integer" ? "1" : "any",
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      value: schema.default,
      inputmode: schema.type === "integer" ? "numeric" : "decimal",
    });
  } else if (schema.type === "boolean") {
    input = el("input", { id, type: "checkbox", checked: Boolean(schema.default) });
  } else {
    input = el("input", { id, type: "text", value: schema.default ?? "" });
  }
  input.dataset.param = name;
  input.dataset.default = String(schema.default ?? "");
  const help = schema.description ? el("span", { class: "hint", text: schema.description }) : null;
  return el("div", { class: "field param" }, label, input, help);
}

// The values a person changed in a method's options (defaults are the server's).
export function methodParameters(key) {
  const values = {};
  for (const input of document.querySelectorAll(`[id^="param-${key}-"]`)) {
    const value = input.type === "checkbox" ? String(input.checked) : input.value;
    if (value !== "" && value !== input.dataset.default) values[input.dataset.param] = value;
  }
  return values;
}

export function tickedMethods(container) {
  return [...container.querySelectorAll('input[name="method"]:checked')].map((box) => box.value);
}

// "Saliency, Grad-CAM and Occlusion" for the picker's summary line.
export function describeChoice(keys) {
  const names = keys.map(methodName);
  if (names.length === 0) return "none ticked";
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
