// The figures of one explanation answer: a map per target (over the picture as the person gave
// it when the answer says which region the model saw, else over the model's input), with a
// colour bar, a caption in plain words and the technical details behind a toggle; and the
// method's extra pictures (occlusion's class map).
import { pngSrc } from "./api.js";
import { classMapFigure } from "./class_map.js";
import { colourBar } from "./colour_bar.js";
import { methodName, plainCaption } from "./method_texts.js";
import { el, percent } from "./messages.js";
import { details, pictureStack } from "./picture.js";

export function mapFigure(key, map, result, context) {
  const target = map.target;
  const label = `“${target.label}”`;
  const title = methodName(key);
  const stack = pictureStack(context.view, pngSrc(map.heatmap_png), `${title} map for class ${target.label}`);
  const name = `lantern_${result.model}_${key}_${target.label}`.replace(/[^\w.-]+/g, "_");
  return el(
    "figure",
    { class: "map", "data-method": key, "data-target": target.index },
    stack,
    colourBar(map, label),
    el(
      "figcaption",
      {},
      el("span", { class: "title" }, el("strong", { text: title }), ` for ${label} · ${percent(target.probability)}`),
      el("span", { class: "plain", text: plainCaption(key, target.label) }),
      details(
        [
          result.layer ? `layer (tensor) ${result.layer}` : null,
          `raw range ${fmt(map.min)} … ${fmt(map.max)}`,
          `colour map ${map.colormap}`,
          describeParameters(result.parameters),
          ...extraNotes(result.extras),
          describeTiming(result.timing),
          context.view.cropped ? "dashed box: the part of the picture the model saw" : null,
        ],
        downloadLinks(stack, context, name, map),
      ),
    ),
  );
}

// Pictures a method adds: occlusion's class map, and any `*_png` in `extras`.
export function extraFigures(key, result, context) {
  const figures = [];
  if (result.class_map || Array.isArray(result.extras?.class_map)) {
    figures.push(classMapFigure(key, result, context));
  }
  for (const [name, value] of Object.entries(result.extras || {})) {
    if (!name.endsWith("_png") || typeof value !== "string" || name === "class_map_png") continue;
    const title = `${methodName(key)}: ${name.replace(/_png$/, "").replace(/_/g, " ")}`;
    figures.push(
      el(
        "figure",
        { class: "map extra", "data-method": key, "data-extra": name },
        el("div", { class: "stack" }, el("div", { class: "frame wide" }, el("img", { class: "base", src: pngSrc(value), alt: title }))),
        el("figcaption", {}, el("strong", { text: title })),
      ),
    );
  }
  return figures;
}

function downloadLinks(stack, context, name, map) {
  const button = el("button", { type: "button", class: "link-button", text: "Download PNG" });
  button.addEventListener("click", () => downloadOverlay(stack, context.view, context.opacity(), `${name}.png`));
  return el(
    "span",
    { class: "downloads" },
    button,
    el("a", { href: pngSrc(map.heatmap_png), download: `${name}_heatmap.png`, text: "map only" }),
  );
}

function extraNotes(extras) {
  return Object.entries(extras || {})
    .filter(([name, value]) => name !== "class_map" && isShort(value))
    .map(([name, value]) => `${name.replace(/_/g, " ")}: ${Array.isArray(value) ? value.join(", ") : value}`);
}

function isShort(value) {
  if (["number", "boolean"].includes(typeof value)) return true;
  if (typeof value === "string") return value.length <= 80;
  return Array.isArray(value) && value.length <= 20 && value.every((v) => ["number", "string"].includes(typeof v));
}

function describeParameters(parameters) {
  const parts = Object.entries(parameters || {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}=${value}`);
  return parts.length ? `parameters ${parts.join(", ")}` : null;
}

function describeTiming(timing) {
  if (!timing) return null;
  const total = `${Math.round(timing.total_ms)} ms`;
  return timing.explain_ms !== undefined ? `time ${total} (method ${Math.round(timing.explain_ms)} ms)` : `time ${total}`;
}

function fmt(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 0.01 && size < 1000 ? value.toFixed(3) : value.toExponential(2);
}

// The overlay as seen, as one PNG: the picture, then the map over its region at the opacity.
function downloadOverlay(stack, view, opacity, filename) {
  const base = stack.querySelector(".base");
  const heat = stack.querySelector(".heat");
  const canvas = document.createElement("canvas");
  canvas.width = base.naturalWidth;
  canvas.height = base.naturalHeight;
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = view.smooth;
  context.drawImage(base, 0, 0);
  const sx = canvas.width / view.width;
  const sy = canvas.height / view.height;
  const [left, top, right, bottom] = view.box;
  context.globalAlpha = opacity;
  context.drawImage(heat, left * sx, top * sy, (right - left) * sx, (bottom - top) * sy);
  canvas.toBlob((blob) => {
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
}
