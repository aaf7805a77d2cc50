// What the evaluation's table and charts share: element builders, number formats, colours.
// No imports here or in evaluation_table.js / evaluation_charts.js: the command line's HTML
// report inlines the three files (app/evaluate/report.py).
const SVG_NS = "http://www.w3.org/2000/svg";

// htmlNode("td", {class: "num", text: "0.2"}, child, ...)
export function htmlNode(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

export function svgNode(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attributes, children);
}

function fill(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function formatValue(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

// "0.283 [0.251, 0.315]", or the mean alone without an interval.
export function formatInterval(interval) {
  if (!interval || interval.mean === null || interval.mean === undefined) return "–";
  if (interval.low === null || interval.low === undefined) return formatValue(interval.mean);
  return `${formatValue(interval.mean)} [${formatValue(interval.low)}, ${formatValue(interval.high)}]`;
}

// A colour per method, hues spread by the golden angle so neighbours differ.
export function methodColour(index) {
  return `hsl(${Math.round((index * 137.508) % 360)}, 62%, 42%)`;
}

export const BASELINE_COLOURS = { centre: "#7a5c00" };

export function baselineColour(name) {
  return BASELINE_COLOURS[name] || "#8a8f99";
}

// Whether a method beats its matched random map on a metric: "better", "worse" or "tie",
// from the paired difference's 95% interval.
export function versusRandom(method, metric) {
  const difference = (method.versus_random || {})[metric.key];
  if (!difference || difference.low === null || difference.low === undefined) return "tie";
  const lower = metric.better === "lower";
  if ((lower && difference.high < 0) || (!lower && difference.low > 0)) return "better";
  if ((lower && difference.low > 0) || (!lower && difference.high < 0)) return "worse";
  return "tie";
}
