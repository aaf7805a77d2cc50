// Occlusion's class map: which class wins when each patch is hidden. The API sends it as
// extras.class_map (an (H, W) array of class indices) or as a picture (extras.class_map_png).
import { el } from "./messages.js";

// Tableau 20: distinct categorical colours, cycled past twenty classes.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

export function isClassMap(value) {
  return Array.isArray(value) && value.length > 0 && Array.isArray(value[0]) && Number.isInteger(value[0][0]);
}

function rgb(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// The map as a PNG data URL (one pixel per cell; CSS enlarges it) and the classes it holds.
export function paintClassMap(map) {
  const height = map.length;
  const width = map[0].length;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(width, height);
  const seen = new Set();
  map.forEach((row, y) =>
    row.forEach((index, x) => {
      seen.add(index);
      const [r, g, b] = rgb(PALETTE[index % PALETTE.length]);
      pixels.data.set([r, g, b, 255], (y * width + x) * 4);
    }),
  );
  context.putImageData(pixels, 0, 0);
  return { src: canvas.toDataURL("image/png"), classes: [...seen].sort((a, b) => a - b) };
}

export function legend(classes, labels) {
  return el(
    "ul",
    { class: "legend", "aria-label": "Classes in the map" },
    ...classes.map((index) =>
      el(
        "li",
        {},
        el("span", { class: "swatch", style: `background: ${PALETTE[index % PALETTE.length]}`, "aria-hidden": "true" }),
        labels[index] ?? String(index),
      ),
    ),
  );
}
