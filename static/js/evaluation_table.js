// The evaluation's ranked table: a row per method (best first by the result's ranking), a
// column per metric with its mean and 95% interval and a mark against the method's
// resolution-matched random map; then a row per baseline. Headers sort by their column.
import { formatInterval, formatValue, htmlNode, versusRandom } from "./evaluation_dom.js";

const MARKS = { better: "▲ better than random", worse: "▼ worse than random", tie: "" };

export function renderEvaluationTable(container, result) {
  const state = { key: null, descending: false };
  const draw = () => container.replaceChildren(evaluationTable(result, state, draw));
  draw();
}

function evaluationTable(result, state, redraw) {
  const metrics = result.metrics;
  const rows = sortedMethods(result, state);
  const header = htmlNode(
    "tr",
    {},
    htmlNode("th", { scope: "col", text: "#" }),
    sortHeader("Method", "method", state, redraw),
    htmlNode("th", { scope: "col", text: "Random map" }),
    ...metrics.map((metric) => sortHeader(metricTitle(metric), metric.key, state, redraw, metric)),
  );
  const body = rows.map((method, index) => methodRow(method, index + 1, metrics));
  const baselines = result.baselines.map((baseline) => baselineRow(baseline, metrics));
  return htmlNode(
    "table",
    { class: "evaluation-table" },
    htmlNode("caption", { text: `Methods ranked by ${result.ranking}. Intervals: 95% over ${result.images.length} image(s).` }),
    htmlNode("thead", {}, header),
    htmlNode("tbody", {}, ...body),
    htmlNode("tbody", { class: "baselines" }, ...baselines),
  );
}

function metricTitle(metric) {
  return `${metric.title} ${metric.better === "lower" ? "↓" : "↑"}`;
}

function sortHeader(text, key, state, redraw, metric = null) {
  const sorted = state.key === key ? (state.descending ? "descending" : "ascending") : "none";
  const button = htmlNode("button", { type: "button", class: "link-button", text });
  button.addEventListener("click", () => {
    state.descending = state.key === key ? !state.descending : metric?.better === "higher";
    state.key = key;
    redraw();
  });
  const title = metric ? `${metric.details}; substrate: ${metric.substrate}; seed ${metric.seed}. ${metric.reference}` : null;
  return htmlNode("th", { scope: "col", "aria-sort": sorted, title, "data-metric": key }, button);
}

function sortedMethods(result, state) {
  const rows = [...result.methods];
  if (!state.key) return rows;
  const value = (row) => (state.key === "method" ? row.method : row.metrics[state.key]?.mean ?? null);
  rows.sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === null) return 1;
    if (y === null) return -1;
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return state.descending ? -order : order;
  });
  return rows;
}

function methodRow(method, rank, metrics) {
  const cells = metrics.map((metric) => {
    const mark = metric.key in (method.versus_random || {}) ? versusRandom(method, metric) : "tie";
    return htmlNode(
      "td",
      { class: `num ${mark}`, title: MARKS[mark] || null },
      formatInterval(method.metrics[metric.key]),
      mark === "tie" ? null : htmlNode("span", { class: "mark", "aria-label": MARKS[mark], text: mark === "better" ? " ▲" : " ▼" }),
    );
  });
  return htmlNode(
    "tr",
    { "data-method": method.method },
    htmlNode("td", { class: "num", text: String(rank) }),
    htmlNode("th", { scope: "row", text: method.method }),
    htmlNode("td", { text: method.random }),
    ...cells,
  );
}

function baselineRow(baseline, metrics) {
  return htmlNode(
    "tr",
    { "data-baseline": baseline.name },
    htmlNode("td"),
    htmlNode("th", { scope: "row", text: baseline.name }),
    htmlNode("td", { text: "baseline" }),
    ...metrics.map((metric) => htmlNode("td", { class: "num", text: metric.key in baseline.metrics ? formatInterval(baseline.metrics[metric.key]) : "" })),
  );
}

// One line under the table: images, methods, time, what was skipped and why.
export function evaluationSummary(result) {
  const seconds = formatValue(result.timing.seconds, 1);
  const skipped = result.skipped.map((item) => ` ${item.metric} skipped: ${item.reason}.`).join("");
  return `${result.images.length} image(s), ${result.methods.length} method(s), seed ${result.seed}, ${seconds} s.${skipped}`;
}
