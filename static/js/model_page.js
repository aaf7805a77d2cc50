// The model page: facts, summary table, diagram, filters, feature maps of the current image,
// the activation-maximisation gallery and the methods' evaluation. A section whose endpoint
// is missing says so.
import { apiFetch, apiJson, imageForm, pngSrc, query } from "./api.js";
import { Gallery } from "./am_gallery.js";
import { EvaluationPanel } from "./evaluation_panel.js";
import { renderClassList } from "./class_list.js";
import { renderSamples, sharedImage } from "./image_input.js";
import { el, installMessages, samplesData, showError } from "./messages.js";
import { explainFailure, formatNumber, formatShape, section, showPixels } from "./sections.js";

const $ = (id) => document.getElementById(id);
const model = $("model-page").dataset.model;
const base = `/models/${encodeURIComponent(model)}`;
const state = { image: null, features: null };

async function init() {
  installMessages();
  let detail;
  try {
    detail = await apiJson(base);
  } catch (error) {
    showError(error);
    return;
  }
  showFacts(detail);
  renderClassList(detail.labels);
  new Gallery(section("am-section"), model, detail.labels);
  new EvaluationPanel(section("eval-section"), model, (samplesData()[model] || []).length > 0).loadMethods();
  loadSummary();
  loadDiagram();
  await loadLayers(detail);
  setUpFeatures();
}

function showFacts(detail) {
  $("model-description").textContent = detail.description;
  const input = detail.input || {};
  const provenance = detail.provenance || {};
  const facts = [
    ["Version", `${detail.version} (of ${detail.versions.join(", ")})`],
    ["Input", `${input.channels} × ${input.height} × ${input.width} (${input.layout || "NCHW"})`],
    ["Classes", detail.labels.length],
    ["Parameters", formatNumber(detail.parameters)],
    ["Architecture", provenance.architecture],
    ["Trained on", detail.trained_on || provenance.data],
    ["Validation accuracy", typeof provenance.validation_accuracy === "number" ? `${(provenance.validation_accuracy * 100).toFixed(2)}%` : null],
    ["Gradient methods", gradientState(detail.gradients)],
  ].filter(([, value]) => value !== null && value !== undefined);
  $("model-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value) })]));
}

// What the gradient self-check says: the methods are on only once it has passed.
function gradientState(gradients) {
  if (!gradients) return null;
  const check = gradients.check;
  if (gradients.status === "verified" && check) {
    return `on: self-check passed (error ${check.error.toExponential(1)}, tolerance ${check.tolerance.toExponential(1)})`;
  }
  if (gradients.status === "pending") return "on after the self-check, which runs with the first gradient request";
  if (gradients.status === "unchecked") return "off: not checked";
  return `off (${gradients.code}): ${gradients.error}`;
}

async function loadSummary() {
  const part = section("summary-section");
  try {
    const summary = await apiJson(`${base}/summary`);
    const table = $("summary-table");
    table.tBodies[0].replaceChildren(
      ...summary.rows.map((row) =>
        el(
          "tr",
          {},
          el("th", { scope: "row", text: row.name }),
          el("td", { text: row.type }),
          el("td", { text: formatShape(row.output_shape) }),
          el("td", { class: "num", text: formatNumber(row.parameters) }),
          el("td", { class: "num", text: formatNumber(row.macs) }),
          el("td", { text: row.trainable === undefined ? "" : row.trainable ? "yes" : "no" }),
        ),
      ),
    );
    table.tFoot.replaceChildren(
      el(
        "tr",
        {},
        el("th", { scope: "row", text: "Total" }),
        el("td", { colspan: 2, text: `trainable ${formatNumber(summary.trainable_parameters)} · non-trainable ${formatNumber(summary.non_trainable_parameters)}` }),
        el("td", { class: "num", text: formatNumber(summary.total_parameters) }),
        el("td", { class: "num", text: formatNumber(summary.total_macs) }),
        el("td"),
      ),
    );
    table.hidden = false;
  } catch (error) {
    explainFailure(part, "The layer summary", error);
  }
}

async function loadDiagram() {
  const part = section("diagram-section");
  try {
    const blob = await (await apiFetch(`${base}/diagram.svg`)).blob();
    const image = $("diagram");
    image.src = URL.createObjectURL(new Blob([blob], { type: "image/svg+xml" }));
    image.hidden = false;
  } catch (error) {
    explainFailure(part, "The architecture diagram", error);
  }
}

// Layer choices from /layers; without it, the manifest's feature layers (and no filters).
async function loadLayers(detail) {
  let layers = [];
  try {
    layers = (await apiJson(`${base}/layers`)).layers;
  } catch (error) {
    if (error.status !== 404) showError(error);
  }
  const convs = layers.filter((layer) => /conv/i.test(`${layer.op} ${layer.kind}`));
  const preferred = (detail.layers && detail.layers.features) || [];
  const spatial = layers.filter((layer) => isSpatial(layer.shape)).map((layer) => layer.name);
  fillLayers($("features-layer"), spatial.length ? spatial : preferred, layers);
  if (preferred.some((name) => spatial.includes(name))) $("features-layer").value = preferred[0];
  fillLayers($("filters-layer"), convs.map((l) => l.name), layers);
  const part = section("filters-section");
  if (!convs.length) {
    part.note("Filters are not available on this server yet.");
    return;
  }
  $("filters-layer").addEventListener("change", loadFilters);
  loadFilters();
}

// (C, H, W) or (N, C, H, W) with more than one pixel per channel.
function isSpatial(shape) {
  if (!Array.isArray(shape) || shape.length < 3) return false;
  const [height, width] = shape.slice(-2);
  return typeof height === "number" && typeof width === "number" && height * width > 1;
}

function fillLayers(select, names, layers) {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  select.replaceChildren(
    ...names.map((name) => {
      const layer = byName.get(name);
      const text = layer ? `${name} (${layer.op}, ${formatShape(layer.shape)})` : name;
      return el("option", { value: name, text });
    }),
  );
  select.disabled = names.length === 0;
}

async function loadFilters() {
  const part = section("filters-section");
  const layer = $("filters-layer").value;
  const figure = part.node.querySelector(".grid-figure");
  try {
    const answer = await apiJson(`${base}/filters${query({ layer })}`);
    part.note("");
    showPixels($("filters-grid"), pngSrc(answer.grid_png));
    $("filters-grid").alt = `The filters of ${answer.layer}, one tile each`;
    figure.querySelector("figcaption").textContent = `${answer.layer} · weights ${formatShape(answer.shape)}`;
    figure.hidden = false;
  } catch (error) {
    figure.hidden = true;
    explainFailure(part, "Filters", error);
  }
}

async function setUpFeatures() {
  const onImage = (blob, description) => {
    state.image = { blob, description };
    const preview = $("features-input");
    preview.src = URL.createObjectURL(blob);
    preview.alt = `The current image: ${description}`;
    preview.closest("figure").hidden = false;
    loadFeatures();
  };
  $("features-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) onImage(file, `file ${file.name}`);
  });
  renderSamples($("features-samples"), samplesData()[model] || [], onImage);
  $("features-layer").addEventListener("change", loadFeatures);
  $("features-order").addEventListener("change", loadFeatures);
  const shared = await sharedImage().catch(() => null);
  const samples = samplesData()[model] || [];
  if (shared) onImage(shared.blob, shared.description);
  else if (samples.length) $("features-samples").querySelector("button").click();
  else section("features-section").note("Choose an image to see its feature maps.");
}

async function loadFeatures() {
  const part = section("features-section");
  const layer = $("features-layer").value;
  if (!state.image || !layer) return;
  state.features?.abort();
  const controller = new AbortController();
  state.features = controller;
  const figure = $("features-grid").closest("figure");
  $("features-progress").hidden = false;
  try {
    const order = $("features-order").value;
    const answer = await apiJson(`${base}/feature_maps${query({ layer, order })}`, {
      method: "POST",
      body: imageForm(state.image.blob),
      signal: controller.signal,
    });
    part.note("");
    showPixels($("features-grid"), pngSrc(answer.grid_png));
    $("features-grid").alt = `Feature maps of ${answer.layer} for the current image`;
    const strongest = [...(answer.channels || [])].sort((a, b) => b.mean - a.mean).slice(0, 3);
    const note = strongest.length ? ` · strongest channels ${strongest.map((c) => c.index).join(", ")}` : "";
    figure.querySelector("figcaption").textContent = `${answer.layer} · ${formatShape(answer.shape)}${note}`;
    figure.hidden = false;
  } catch (error) {
    if (error.name === "AbortError") return;
    figure.hidden = true;
    explainFailure(part, "Feature maps", error);
  } finally {
    if (state.features === controller) $("features-progress").hidden = true;
  }
}

init();
