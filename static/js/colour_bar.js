// A colour bar under each map: the colour map the server used (the same anchor colours as
// app/heatmap.py, checked by tests/ui/test_pages.py) and what its ends mean.
import { el } from "./messages.js";

export const ANCHORS = {
  viridis: "440154 482878 3e4989 31688e 26828e 1f9e89 35b779 6ece58 b5de2b fde725",
  inferno: "000004 1b0c41 4a0c6b 781c6d a52c60 cf4446 ed6925 fb9b06 f7d13d fcffa4",
  jet: "00007f 0000ff 007fff 00ffff 7fff7f ffff00 ff7f00 ff0000 7f0000",
  gray: "000000 ffffff",
  bwr: "0000ff ffffff ff0000",
};
const SIGNED = new Set(["bwr"]);

export function gradient(colormap) {
  const stops = (ANCHORS[colormap] || ANCHORS.viridis).split(" ").map((hex) => `#${hex}`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

// What the two ends (and the middle) of the bar mean for a map {min, max, colormap}.
// A signed colour map is centred on zero; a sequential one runs from the map's min to max.
export function scale(map) {
  if (SIGNED.has(map.colormap)) {
    return { signed: true, low: "against", middle: "0", high: "for", zero: 0.5 };
  }
  const mixed = map.min < 0 && map.max > 0;
  return {
    signed: false,
    low: mixed ? "lowest" : "less",
    middle: mixed ? "" : "importance",
    high: mixed ? "highest" : "more",
    zero: mixed ? -map.min / (map.max - map.min) : null,
  };
}

export function colourBar(map, label) {
  const meaning = scale(map);
  let description = `Colour scale: from less important (left) to more important (right) for ${label}.`;
  if (meaning.signed) {
    description = `Colour scale: blue counts against ${label}, white is neutral, red counts for ${label}.`;
  } else if (meaning.zero !== null) {
    description = `Colour scale: from the lowest value (left) through 0 (marked) to the highest (right) for ${label}.`;
  }
  const bar = el("span", { class: "bar", style: `background: ${gradient(map.colormap)}` });
  if (meaning.zero !== null && !meaning.signed) {
    bar.append(el("span", { class: "zero", style: `left: ${(meaning.zero * 100).toFixed(1)}%`, title: "0" }));
  }
  return el(
    "div",
    { class: "colour-bar", role: "img", "aria-label": description, "data-colormap": map.colormap },
    bar,
    el(
      "span",
      { class: "ends", "aria-hidden": "true" },
      el("span", { text: meaning.low }),
      el("span", { text: meaning.middle }),
      el("span", { text: meaning.high }),
    ),
  );
}
