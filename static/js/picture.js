// A picture with an overlay: the map (or class map) drawn over the region of the picture the
// model saw, the crop marked when the model saw only part of it; and the "Details" toggle.
import { pngSrc } from "./api.js";
import { el } from "./messages.js";

// Where the maps are drawn: {src, width, height, box: [l, t, r, b], cropped, smooth}.
export function viewOf(result, given, inputSize) {
  const region = result.input_region;
  if (given && given.url && isRegion(region)) {
    const [left, top, right, bottom] = region.box;
    const cropped = left > 0 || top > 0 || right < region.width || bottom < region.height;
    return { src: given.url, width: region.width, height: region.height, box: region.box, cropped, smooth: true };
  }
  const [width, height] = inputSize || [1, 1];
  return { src: pngSrc(result.input_png), width, height, box: [0, 0, width, height], cropped: false, smooth: false };
}

function isRegion(region) {
  return Boolean(
    region && region.width > 0 && region.height > 0 && Array.isArray(region.box) && region.box.length === 4,
  );
}

// The picture with an overlay (heatmap or class map) over the model's region of it.
export function pictureStack(view, overlaySrc, alt) {
  const { width, height, box } = view;
  const place = {
    left: `${(100 * box[0]) / width}%`,
    top: `${(100 * box[1]) / height}%`,
    width: `${(100 * (box[2] - box[0])) / width}%`,
    height: `${(100 * (box[3] - box[1])) / height}%`,
  };
  const style = Object.entries(place).map(([k, v]) => `${k}: ${v}`).join("; ");
  const ratio = width / height;
  const frame = el(
    "div",
    { class: `frame ${ratio >= 1 ? "wide" : "tall"}`, style: `aspect-ratio: ${width} / ${height}` },
    el("img", { class: "base", src: view.src, alt: "" }),
    el("img", { class: "heat", src: overlaySrc, alt, style }),
    view.cropped ? el("span", { class: "crop-box", style, title: "the part of the picture the model saw" }) : null,
  );
  const shown = Math.min(1.5, Math.max(0.75, ratio)); // a box near the picture's shape
  return el("div", { class: `stack${view.smooth ? " smooth" : ""}`, style: `aspect-ratio: ${shown}` }, frame);
}

// The technical lines behind a "Details" toggle.
export function details(lines, ...more) {
  return el(
    "details",
    { class: "tech" },
    el("summary", { text: "Details" }),
    ...lines.filter(Boolean).map((line) => el("span", { class: "meta", text: line })),
    ...more,
  );
}

