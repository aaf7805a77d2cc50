// The explanation panel: method checkboxes built from GET /explain, the requests to
// /explain/{method}, and the figure row (input | map | map ...) with overlays and downloads.
import { apiJson, imageForm, pngSrc, query, retryWhenBusy } from "./api.js";
import { isClassMap, legend, paintClassMap } from "./class_map.js";
import { el, percent } from "./messages.js";

const FAMILIES = {
  gradient: "Gradients",
  cam: "Class activation maps",
  perturbation: "Perturbation",
  introspection: "Introspection",
  trust: "Trust",
};

const NAMES = {
  saliency: "Saliency (vanilla)",
  guided_backprop: "Guided backprop",
  deconvnet: "Deconvnet (rectified)",
  gradient_x_input: "Gradient × input",
  smoothgrad: "SmoothGrad",
  integrated_gradients: "Integrated Gradients",
  grad_cam: "Grad-CAM",
  grad_cam_plus_plus: "Grad-CAM++",
  hires_cam: "HiRes-CAM",
  layer_cam: "Layer-CAM",
  guided_grad_cam: "Guided Grad-CAM",
  occlusion: "Occlusion",
  score_cam: "Score-CAM",
  rise: "RISE",
};

export const DEFAULT_METHODS = ["saliency", "guided_backprop", "grad_cam"];

export function methodName(key) {
  return NAMES[key] || key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export async function loadMethods() {
  return (await apiJson("/explain")).methods;
}

// Fieldsets of checkboxes, one per family, for the methods this model supports.
export function renderMethodGroups(container, methods, model, chosen) {
  const supported = methods.filter((method) => method.models.includes(model));
  const families = [...new Set(supported.map((method) => method.family))];
  container.replaceChildren(
    ...families.map((family) =>
      el(
        "fieldset",
        { class: "method-group" },
        el("legend", { text: FAMILIES[family] || family }),
        ...supported.filter((m) => m.family === family).map((m) => methodControl(m, chosen)),
      ),
    ),
  );
  if (!supported.length) {
    container.append(el("p", { class: "note", text: "This model supports no explanation method." }));
  }
}

function methodControl(method, chosen) {
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
  });
  const parameters = Object.entries(method.parameters || {});
  return el(
    "div",
    { class: "method" },
    el("div", { class: "check" }, box, el("label", { for: id, text: methodName(method.key) })),
    el("p", { class: "hint", id: `${id}-summary`, text: method.summary }),
    parameters.length
      ? el(
          "details",
          { class: "options" },
          el("summary", { text: `${methodName(method.key)} options` }),
          ...parameters.map(([name, schema]) => parameterField(method.key, name, schema)),
        )
      : null,
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

// Run the chosen methods, two at a time; onDone(key, result | error) for each.
export async function runMethods(keys, request, signal, onDone) {
  let next = 0;
  const worker = async () => {
    while (next < keys.length && !signal.aborted) {
      const key = keys[next++];
      try {
        onDone(key, await explainOne(key, request, signal));
      } catch (error) {
        if (error.name === "AbortError") return;
        onDone(key, error);
      }
    }
  };
  await Promise.all([worker(), worker()]);
}

function explainOne(key, request, signal) {
  const params = {
    model: request.model,
    target: request.target,
    colormap: request.colormap,
    alpha: request.alpha,
    ...methodParameters(key),
  };
  const call = () =>
    apiJson(`/explain/${encodeURIComponent(key)}${query(params)}`, {
      method: "POST",
      body: imageForm(request.blob),
      signal,
    });
  return retryWhenBusy(call, signal);
}

// The figure row: a slot per method, in the order asked, filled as answers come.
export function startFigures(grid, keys) {
  grid.replaceChildren(
    el("figure", { class: "map input-figure", hidden: true }, el("div", { class: "stack" })),
    ...keys.map((key) =>
      el(
        "figure",
        { class: "map pending", "data-method": key },
        el("div", { class: "stack placeholder" }, el("span", { class: "spinner", "aria-hidden": "true" })),
        el("figcaption", {}, el("strong", { text: methodName(key) }), el("span", { text: "working…" })),
      ),
    ),
  );
}

export function showInput(grid, result) {
  const slot = grid.querySelector(".input-figure");
  if (!slot || !slot.hidden) return;
  slot.replaceChildren(
    el("div", { class: "stack" }, el("img", { class: "base", src: pngSrc(result.input_png), alt: "The input as the model sees it" })),
    el("figcaption", {}, el("strong", { text: "Input" }), el("span", { text: "as the model sees it" })),
  );
  slot.hidden = false;
}

export function fillFigure(grid, key, result, context) {
  const slot = grid.querySelector(`figure[data-method="${CSS.escape(key)}"]`);
  if (!slot) return;
  if (result instanceof Error) {
    slot.className = "map failed";
    slot.replaceChildren(
      el("div", { class: "stack placeholder" }),
      el("figcaption", {}, el("strong", { text: methodName(key) }), el("span", { class: "error-text", text: result.message })),
    );
    return;
  }
  showInput(grid, result);
  const figures = result.maps.map((map) => mapFigure(key, map, result, context));
  figures.push(...extraFigures(key, result, context.labels || []));
  slot.replaceWith(...figures);
}

function mapFigure(key, map, result, context) {
  const target = map.target;
  const title = methodName(key);
  const heat = el("img", {
    class: "heat",
    src: pngSrc(map.heatmap_png),
    alt: `${title} heatmap for class ${target.label}`,
  });
  const base = el("img", { class: "base", src: pngSrc(result.input_png), alt: "" });
  const name = `lantern_${result.model}_${key}_${target.label}`.replace(/[^\w.-]+/g, "_");
  const download = el("button", { type: "button", class: "link-button", text: "Download PNG" });
  download.addEventListener("click", () => downloadOverlay(base, heat, context.opacity(), `${name}.png`));
  return el(
    "figure",
    { class: "map", "data-method": key, "data-target": target.index },
    el("div", { class: "stack" }, base, heat),
    el(
      "figcaption",
      {},
      el("strong", { text: title }),
      el("span", { text: `class ${target.label} (${percent(target.probability)})` }),
      el("span", { class: "meta", text: `range ${fmt(map.min)} … ${fmt(map.max)} · ${map.colormap}` }),
      describeParameters(result),
      el("span", { class: "meta", text: describeTiming(result.timing) }),
      el(
        "span",
        { class: "downloads" },
        download,
        el("a", { href: pngSrc(map.heatmap_png), download: `${name}_heatmap.png`, text: "heatmap only" }),
      ),
    ),
  );
}

// Pictures a method adds in `extras`: any `*_png`, and occlusion's class map as an array.
function extraFigures(key, result, labels) {
  const extras = result.extras || {};
  const notes = Object.entries(extras)
    .filter(([, value]) => isShort(value))
    .map(([name, v]) => el("span", { class: "meta", text: `${name.replace(/_/g, " ")}: ${Array.isArray(v) ? v.join(", ") : v}` }));
  const figures = [];
  for (const [name, value] of Object.entries(extras)) {
    const base = name.replace(/_png$/, "");
    const title = `${methodName(key)}: ${base.replace(/_/g, " ")}`;
    const file = `lantern_${result.model}_${key}_${base}.png`.replace(/[^\w.-]+/g, "_");
    if (name.endsWith("_png") && typeof value === "string") {
      figures.push(extraFigure(key, name, pngSrc(value), title, file, notes));
    } else if (isClassMap(value) && typeof extras[`${name}_png`] !== "string") {
      const painted = paintClassMap(value);
      const caption = [legend(painted.classes, labels), ...notes];
      figures.push(extraFigure(key, name, painted.src, title, file, caption, pngSrc(result.input_png)));
    }
  }
  return figures;
}

// An extra picture; with `under`, it is laid over the input like a heatmap.
function extraFigure(key, name, src, title, file, notes, under = null) {
  const picture = under
    ? [el("img", { class: "base", src: under, alt: "" }), el("img", { class: "heat", src, alt: title })]
    : [el("img", { class: "base", src, alt: title })];
  return el(
    "figure",
    { class: "map extra", "data-method": key, "data-extra": name },
    el("div", { class: "stack" }, ...picture),
    el(
      "figcaption",
      {},
      el("strong", { text: title }),
      ...notes,
      el("span", { class: "downloads" }, el("a", { href: src, download: file, text: "Download PNG" })),
    ),
  );
}

function isShort(value) {
  if (["number", "boolean"].includes(typeof value)) return true;
  if (typeof value === "string") return value.length <= 80;
  return Array.isArray(value) && value.length <= 20 && value.every((v) => ["number", "string"].includes(typeof v));
}

function describeParameters(result) {
  const parts = Object.entries(result.parameters || {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}=${value}`);
  if (result.layer) parts.push(`layer ${result.layer}`);
  return parts.length ? el("span", { class: "meta params", text: parts.join(" · ") }) : null;
}

function describeTiming(timing) {
  if (!timing) return "";
  const total = `${Math.round(timing.total_ms)} ms`;
  return timing.explain_ms !== undefined ? `${total} (method ${Math.round(timing.explain_ms)} ms)` : total;
}

function fmt(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 0.01 && size < 1000 ? value.toFixed(3) : value.toExponential(2);
}

// The overlay as seen: input, then the heatmap at the current opacity, as one PNG file.
function downloadOverlay(base, heat, opacity, filename) {
  const canvas = document.createElement("canvas");
  canvas.width = base.naturalWidth;
  canvas.height = base.naturalHeight;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(base, 0, 0);
  context.globalAlpha = opacity;
  context.drawImage(heat, 0, 0, canvas.width, canvas.height);
  canvas.toBlob((blob) => {
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
}
