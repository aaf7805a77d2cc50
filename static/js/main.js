// The main page: model choice, image intake (file, drop, paste, samples, drawing),
// the prediction bars and the explanation panel.
import { apiJson } from "./api.js";
import { DrawingCanvas } from "./canvas.js";
import { installCanvasKeys } from "./canvas_keys.js";
import {
  DEFAULT_METHODS,
  fillFigure,
  loadMethods,
  renderMethodGroups,
  runMethods,
  startFigures,
} from "./explain.js";
import { installDrop, installFilePicker, installPaste, renderSamples, shareImage } from "./image_input.js";
import { announce, clearError, el, installMessages, percent, samplesData, showError } from "./messages.js";
import { predict, renderTopK } from "./predict.js";

const $ = (id) => document.getElementById(id);

const state = {
  model: "",
  details: new Map(),
  methods: [],
  chosen: new Set(DEFAULT_METHODS),
  image: null,
  predicting: null,
  explaining: null,
  samples: samplesData(),
};

async function init() {
  installMessages();
  installFilePicker($("file-input"), (blob, text) => setImage(blob, text));
  installDrop($("dropzone"), (blob, text) => setImage(blob, text));
  installPaste((blob, text) => setImage(blob, text));
  state.canvas = new DrawingCanvas($("draw-canvas"), (blob) => setImage(blob, "drawing"));
  installCanvasKeys(state.canvas, $("pen-cursor"), clearDrawing);
  $("clear-canvas").addEventListener("click", clearDrawing);
  $("model-select").addEventListener("change", (event) => selectModel(event.target.value));
  $("explain-form").addEventListener("submit", (event) => {
    event.preventDefault();
    explain();
  });
  $("cancel-explain").addEventListener("click", () => state.explaining?.abort());
  $("opacity").addEventListener("input", showOpacity);
  $("colormap-select").addEventListener("change", () => {
    if ($("figure-grid").querySelector(".map")) explain();
  });
  showOpacity();
  try {
    const [models, methods] = await Promise.all([apiJson("/models"), loadMethods()]);
    state.methods = methods;
    fillModels(models.models);
  } catch (error) {
    showError(error);
  }
}

function fillModels(models) {
  const select = $("model-select");
  select.replaceChildren(...models.map((m) => el("option", { value: m.name, text: `${m.name} (v${m.version})` })));
  if (!models.length) {
    showError(new Error("No model is loaded on this server."));
    return;
  }
  const asked = new URLSearchParams(location.search).get("model");
  const names = models.map((m) => m.name);
  const first = [asked, select.dataset.default].find((name) => names.includes(name)) || names[0];
  select.value = first;
  selectModel(first);
}

async function modelDetail(name) {
  if (!state.details.has(name)) state.details.set(name, await apiJson(`/models/${encodeURIComponent(name)}`));
  return state.details.get(name);
}

async function selectModel(name) {
  state.model = name;
  const href = `/ui/models/${encodeURIComponent(name)}`;
  $("model-link").href = href;
  $("nav-model-link").href = href;
  renderSamples($("sample-list"), state.samples[name] || [], (blob, text) => setImage(blob, text));
  renderMethodGroups($("method-groups"), state.methods, name, state.chosen);
  $("figure-grid").replaceChildren();
  try {
    const detail = await modelDetail(name);
    if (state.model !== name) return;
    $("model-description").textContent = detail.description;
    const digit = Boolean(detail.preprocess && detail.preprocess.digit);
    $("draw-panel").hidden = !digit;
    fillTargets(detail.labels, []);
  } catch (error) {
    showError(error);
  }
  if (state.image) runPredict();
}

function setImage(blob, description) {
  state.image = { blob, description };
  const drawing = description === "drawing";
  if (!drawing) {
    state.canvas.clear();
    showPreview(blob, description);
    shareImage(blob, description);
  } else {
    $("preview-figure").hidden = true;
  }
  $("figure-grid").replaceChildren();
  runPredict();
}

function showPreview(blob, description) {
  const image = $("preview");
  if (image.dataset.url) URL.revokeObjectURL(image.dataset.url);
  const url = URL.createObjectURL(blob);
  image.dataset.url = url;
  image.alt = `The image to classify: ${description}`;
  image.onerror = () => {
    $("preview-figure").hidden = true;
  };
  image.onload = () => {
    $("preview-figure").hidden = false;
  };
  image.src = url;
  $("preview-caption").textContent = description;
}

function clearDrawing() {
  state.canvas.clear();
  if (state.image && state.image.description === "drawing") {
    state.image = null;
    $("top-k").replaceChildren();
    $("prediction-empty").hidden = false;
    $("prediction-timing").textContent = "";
    $("figure-grid").replaceChildren();
  }
  announce("Drawing cleared.");
}

async function runPredict() {
  state.predicting?.abort();
  const controller = new AbortController();
  state.predicting = controller;
  const panel = $("prediction-panel");
  panel.setAttribute("aria-busy", "true");
  try {
    const answer = await predict(state.model, state.image.blob, controller.signal);
    if (controller.signal.aborted) return;
    clearError();
    renderTopK($("top-k"), answer.predictions);
    $("prediction-empty").hidden = true;
    $("prediction-timing").textContent = `${answer.model} v${answer.version} · ${answer.timing.total_ms.toFixed(1)} ms`;
    const best = answer.predictions[0];
    announce(`Top class ${best.label}, ${percent(best.probability)}.`);
    const detail = state.details.get(state.model);
    if (detail) fillTargets(detail.labels, answer.predictions);
  } catch (error) {
    if (error.name === "AbortError") return;
    $("top-k").replaceChildren();
    $("prediction-empty").hidden = false;
    showError(error);
  } finally {
    if (state.predicting === controller) panel.setAttribute("aria-busy", "false");
  }
}

// "top class" plus every label; the predicted ones show their probability.
function fillTargets(labels, predictions) {
  const select = $("target-select");
  const kept = select.value;
  const known = new Map(predictions.map((p) => [p.index, p.probability]));
  const top = predictions[0];
  select.replaceChildren(
    el("option", { value: "", text: top ? `top class (${top.label})` : "top class" }),
    ...labels.map((label, index) =>
      el("option", {
        value: String(index),
        text: known.has(index) ? `${label} (${percent(known.get(index))})` : label,
      }),
    ),
  );
  select.value = labels[Number(kept)] !== undefined && kept !== "" ? kept : "";
}

function showOpacity() {
  const value = Number($("opacity").value) / 100;
  $("figure-grid").style.setProperty("--heat-opacity", String(value));
  $("opacity-value").textContent = `${Math.round(value * 100)}%`;
}

async function explain() {
  if (!state.image) {
    showError(new Error("Give an image first: choose a file, drop or paste one, pick a sample, or draw."));
    return;
  }
  const keys = [...document.querySelectorAll('#method-groups input[name="method"]:checked')].map((box) => box.value);
  if (!keys.length) {
    showError(new Error("Choose at least one explanation method."));
    return;
  }
  state.explaining?.abort();
  const controller = new AbortController();
  state.explaining = controller;
  clearError();
  const grid = $("figure-grid");
  startFigures(grid, keys);
  const progress = { done: 0, total: keys.length };
  showProgress(progress);
  const request = {
    model: state.model,
    blob: state.image.blob,
    target: $("target-select").value,
    colormap: $("colormap-select").value,
    alpha: Number($("opacity").value) / 100,
  };
  const labels = state.details.get(state.model)?.labels || [];
  const context = { opacity: () => Number($("opacity").value) / 100, labels };
  let failures = 0;
  await runMethods(keys, request, controller.signal, (key, result) => {
    if (controller.signal.aborted) return;
    fillFigure(grid, key, result, context);
    if (result instanceof Error) failures += 1;
    if (failures === 1 && result instanceof Error) showError(result);
    progress.done += 1;
    showProgress(progress);
  });
  if (state.explaining !== controller) return;
  state.explaining = null;
  hideProgress();
  if (controller.signal.aborted) {
    for (const slot of grid.querySelectorAll(".map.pending")) slot.remove();
    announce("Explanation cancelled.");
  } else {
    announce(`Explanations ready: ${progress.done - failures} of ${keys.length}.`);
  }
}

function showProgress({ done, total }) {
  $("explain-progress").hidden = false;
  $("explain-progress-bar").max = total;
  $("explain-progress-bar").value = done;
  $("explain-progress-text").textContent = `${done} of ${total} methods done`;
  $("cancel-explain").disabled = false;
}

function hideProgress() {
  $("explain-progress").hidden = true;
  $("cancel-explain").disabled = true;
}

init();
