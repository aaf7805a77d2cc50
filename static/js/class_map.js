// Occlusion's class map: which class wins when the patch at each place is hidden. The API
// sends it as `class_map` {png, legend: [{index, label, colour}]} and as extras.class_map (an
// (H, W) array of class indices), from which the legend's shares are counted.
import { pngSrc } from "./api.js";
import { methodName } from "./method_texts.js";
import { el } from "./messages.js";
import { details, pictureStack } from "./picture.js";

// Tableau 20, as app/explain/render.py colours the class map.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

export function isClassMap(value) {
  return Array.isArray(value) && value.length > 0 && Array.isArray(value[0]) && Number.isInteger(value[0][0]);
}

// The share of the map each class holds, {index: fraction}.
export function shares(map) {
  const counts = new Map();
  let total = 0;
  for (const row of map) {
    for (const index of row) {
      counts.set(index, (counts.get(index) || 0) + 1);
      total += 1;
    }
  }
  return new Map([...counts].map(([index, count]) => [index, count / total]));
}

// The map as a PNG data URL (one pixel per cell; CSS enlarges it), when the server sent no picture.
function paint(map) {
  const canvas = document.createElement("canvas");
  canvas.width = map[0].length;
  canvas.height = map.length;
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(canvas.width, canvas.height);
  map.forEach((row, y) =>
    row.forEach((index, x) => {
      const n = Number.parseInt(PALETTE[index % PALETTE.length].slice(1), 16);
      pixels.data.set([(n >> 16) & 255, (n >> 8) & 255, n & 255, 255], (y * canvas.width + x) * 4);
    }),
  );
  context.putImageData(pixels, 0, 0);
  return canvas.toDataURL("image/png");
}

// [{index, label, colour, share}], largest share first.
function legendEntries(result, labels) {
  const array = isClassMap(result.extras?.class_map) ? result.extras.class_map : null;
  const counted = array ? shares(array) : new Map();
  const given = result.class_map?.legend;
  const entries = given
    ? given.map((entry) => ({ ...entry, share: counted.get(entry.index) }))
    : [...counted.keys()].map((index) => ({
        index,
        label: labels[index] ?? String(index),
        colour: PALETTE[index % PALETTE.length],
        share: counted.get(index),
      }));
  return entries.sort((a, b) => (b.share ?? 0) - (a.share ?? 0));
}

export function legend(entries) {
  return el(
    "ul",
    { class: "legend", "aria-label": "Classes in the map" },
    ...entries.map((entry) =>
      el(
        "li",
        { "data-index": entry.index },
        el("span", { class: "swatch", style: `background: ${entry.colour}`, "aria-hidden": "true" }),
        entry.share === undefined ? entry.label : `${entry.label} (${Math.round(entry.share * 100)}%)`,
      ),
    ),
  );
}

export function classMapFigure(key, result, context) {
  const entries = legendEntries(result, context.labels || []);
  const src = result.class_map?.png ? pngSrc(result.class_map.png) : paint(result.extras.class_map);
  const title = `${methodName(key)}: class map`;
  const top = result.predictions?.[0]?.label ?? entries[0]?.label;
  const note =
    entries.length === 1
      ? `Only one class ever wins: hiding any one patch leaves the answer “${entries[0].label}”.`
      : `Coloured by the class the model answers when the patch there is hidden (it answers “${top}” for the whole picture).`;
  return el(
    "figure",
    { class: "map extra class-map", "data-method": key, "data-extra": "class_map" },
    pictureStack(context.view, src, title),
    legend(entries),
    el(
      "figcaption",
      {},
      el("span", { class: "title" }, el("strong", { text: title })),
      el("span", { class: "plain", text: note }),
      details([`${entries.length} class${entries.length === 1 ? "" : "es"} in the map`, "extras.class_map: (H, W) class indices"]),
    ),
  );
}
