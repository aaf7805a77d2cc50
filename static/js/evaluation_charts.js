// The evaluation's charts, as plain SVG: the mean deletion and insertion (and ROAD) curves
// of every method overlaid, with the baselines dashed; and a bar chart per metric, each
// method's mean with its 95% interval and a mark at its resolution-matched random map.
import { baselineColour, formatValue, methodColour, svgNode } from "./evaluation_dom.js";

const CURVES = [
  { key: "deletion", title: "Deletion", better: "lower", x: "fraction of pixels removed" },
  { key: "insertion", title: "Insertion", better: "higher", x: "fraction of pixels revealed" },
  { key: "road_morf", title: "ROAD, most relevant first", better: "lower", x: "fraction removed" },
  { key: "road_lerf", title: "ROAD, least relevant first", better: "higher", x: "fraction removed" },
];
const ROAD_FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const PLOT = { width: 340, height: 230, left: 44, right: 10, top: 26, bottom: 36 };

// One panel per curve the result has, then a legend.
export function renderEvaluationCurves(container, result) {
  const colours = methodColours(result);
  const panels = CURVES.filter((curve) => result.methods.some((m) => m.curves[curve.key]))
    .map((curve) => curvePanel(curve, result, colours));
  container.replaceChildren(...panels, legend(result, colours));
}

export function methodColours(result) {
  const names = [...result.methods.map((m) => m.method)].sort();
  return new Map(names.map((name, index) => [name, methodColour(index)]));
}

function curvePanel(curve, result, colours) {
  const { width, height, left, right, top, bottom } = PLOT;
  const x = (t) => left + t * (width - left - right);
  const y = (p) => top + (1 - p) * (height - top - bottom);
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: "evaluation-chart", role: "img", "data-curve": curve.key, "aria-label": `${curve.title} curves, mean over the images` });
  svg.append(svgNode("text", { x: left, y: 16, class: "chart-title", text: `${curve.title} (${curve.better} is better)` }));
  svg.append(...axes(x, y, curve.x));
  for (const baseline of result.baselines) {
    const points = baseline.curves[curve.key];
    if (points) svg.append(line(points, x, y, baselineColour(baseline.name), baseline.name, true));
  }
  for (const method of result.methods) {
    const points = method.curves[curve.key];
    if (points) svg.append(line(points, x, y, colours.get(method.method), method.method, false));
  }
  return svg;
}

function line(points, x, y, colour, name, dashed) {
  const road = points.length === ROAD_FRACTIONS.length;
  const at = (index) => (road ? ROAD_FRACTIONS[index] : index / (points.length - 1));
  const d = points.map((p, i) => `${i ? "L" : "M"}${x(at(i)).toFixed(1)},${y(p).toFixed(1)}`).join(" ");
  return svgNode(
    "path",
    { d, fill: "none", stroke: colour, "stroke-width": dashed ? 1.5 : 1.8, "stroke-dasharray": dashed ? "4 3" : null, "data-name": name },
    svgNode("title", { text: name }),
  );
}

function axes(x, y, label) {
  const parts = [svgNode("path", { d: `M${x(0)},${y(1)} L${x(0)},${y(0)} L${x(1)},${y(0)}`, class: "axis", fill: "none" })];
  for (const t of [0, 0.5, 1]) {
    parts.push(svgNode("text", { x: x(t), y: y(0) + 14, class: "tick", "text-anchor": "middle", text: String(t) }));
    parts.push(svgNode("text", { x: x(0) - 6, y: y(t) + 4, class: "tick", "text-anchor": "end", text: String(t) }));
  }
  parts.push(svgNode("text", { x: x(0.5), y: y(0) + 30, class: "axis-label", "text-anchor": "middle", text: label }));
  parts.push(svgNode("text", { x: 12, y: y(0.5), class: "axis-label", "text-anchor": "middle", transform: `rotate(-90 12 ${y(0.5)})`, text: "probability" }));
  return parts;
}

function legend(result, colours) {
  const list = document.createElement("ul");
  list.className = "chart-legend";
  const entries = [
    ...result.methods.map((m) => [m.method, colours.get(m.method), false]),
    ...result.baselines.map((b) => [b.name, baselineColour(b.name), true]),
  ];
  for (const [name, colour, dashed] of entries) {
    const item = document.createElement("li");
    const swatch = svgNode("svg", { width: 22, height: 10, "aria-hidden": "true" }, svgNode("line", { x1: 0, y1: 5, x2: 22, y2: 5, stroke: colour, "stroke-width": 2.5, "stroke-dasharray": dashed ? "4 3" : null }));
    item.append(swatch, ` ${name}`);
    list.append(item);
  }
  return list;
}

// A bar chart per metric: a bar per method (mean), its interval, its random map's mean.
export function renderEvaluationBars(container, result) {
  const colours = methodColours(result);
  const baselines = new Map(result.baselines.map((b) => [b.name, b]));
  container.replaceChildren(...result.metrics.map((metric) => barPanel(metric, result, colours, baselines)));
}

function barPanel(metric, result, colours, baselines) {
  const rows = result.methods.filter((m) => m.metrics[metric.key]?.mean !== null && m.metrics[metric.key]?.mean !== undefined);
  const random = (m) => baselines.get(m.random)?.metrics[metric.key]?.mean ?? null;
  const values = rows.flatMap((m) => [m.metrics[metric.key].low, m.metrics[metric.key].high, m.metrics[metric.key].mean, random(m)]);
  const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  const low = Math.min(0, ...finite);
  const high = Math.max(low + 1e-9, ...finite);
  const [left, right, rowHeight, top] = [130, 14, 18, 26];
  const width = 340;
  const height = top + rows.length * rowHeight + 24;
  const x = (v) => left + ((v - low) / (high - low)) * (width - left - right);
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, class: "evaluation-chart", role: "img", "data-metric": metric.key, "aria-label": `${metric.title}: each method's mean, interval and random baseline` });
  svg.append(svgNode("text", { x: 4, y: 16, class: "chart-title", text: `${metric.title} (${metric.better} is better)` }));
  rows.forEach((method, index) => svg.append(...barRow(method, metric, index, { x, top, rowHeight, colour: colours.get(method.method), random: random(method) })));
  svg.append(svgNode("path", { d: `M${x(0)},${top - 4} L${x(0)},${height - 20}`, class: "axis" }));
  for (const value of [low, high]) {
    svg.append(svgNode("text", { x: x(value), y: height - 6, class: "tick", "text-anchor": "middle", text: formatValue(value, 2) }));
  }
  return svg;
}

function barRow(method, metric, index, { x, top, rowHeight, colour, random }) {
  const interval = method.metrics[metric.key];
  const y = top + index * rowHeight;
  const parts = [
    svgNode("text", { x: 126, y: y + 12, class: "tick", "text-anchor": "end", text: method.method }),
    svgNode("rect", { x: Math.min(x(0), x(interval.mean)), y: y + 3, width: Math.abs(x(interval.mean) - x(0)), height: rowHeight - 6, fill: colour, "data-method": method.method }, svgNode("title", { text: `${method.method}: ${formatValue(interval.mean)}` })),
  ];
  if (interval.low !== null && interval.low !== undefined) {
    parts.push(svgNode("path", { d: `M${x(interval.low)},${y + rowHeight / 2} L${x(interval.high)},${y + rowHeight / 2}`, class: "whisker" }));
  }
  if (random !== null) {
    parts.push(svgNode("path", { d: `M${x(random)},${y + 1} L${x(random)},${y + rowHeight - 1}`, class: "random-mark" }, svgNode("title", { text: `${method.random}: ${formatValue(random)}` })));
  }
  return parts;
}
