// Every call to the Lantern API goes through apiFetch: it sends the API key (if one was
// given), asks for a key once when the server answers 401 and retries, and turns the API's
// {"error": {"code", "message"}} into an ApiError whose message a person can read.
import { askForKey } from "./auth.js";

const KEY_STORAGE = "lantern.apiKey";

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter; // seconds, from a 503's Retry-After
  }
}

export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function storeKey(key) {
  try {
    sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // storage disabled: the key lives as long as this page
  }
  memoryKey = key;
}

let memoryKey = null;

export async function apiFetch(path, options = {}) {
  let rejectedKey = false;
  for (;;) {
    const headers = new Headers(options.headers || {});
    const key = storedKey() || memoryKey;
    if (key) headers.set("Authorization", `Bearer ${key}`);
    let response;
    try {
      response = await fetch(path, { ...options, headers });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network", "Cannot reach the Lantern server. Is it running?");
    }
    if (response.status === 401) {
      const message = await readError(response);
      const newKey = await askForKey(rejectedKey || key ? "That key was not accepted. " + message.message : "");
      if (newKey === null) throw new ApiError(401, "unauthorized", "An API key is needed for this server.");
      storeKey(newKey);
      rejectedKey = true;
      continue;
    }
    if (!response.ok) throw await readError(response);
    return response;
  }
}

export async function apiJson(path, options = {}) {
  const response = await apiFetch(path, options);
  return response.json();
}

async function readError(response) {
  const retry = Number.parseFloat(response.headers.get("Retry-After") || "");
  const retryAfter = Number.isFinite(retry) ? retry : null;
  try {
    const body = JSON.parse(await response.text());
    if (body && body.error && body.error.message) {
      return new ApiError(response.status, body.error.code || "error", body.error.message, retryAfter);
    }
    if (body && typeof body.detail === "string") {
      return new ApiError(response.status, "error", body.detail, retryAfter);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  const reason = response.statusText || "request failed";
  const hint = response.status === 503 ? " The server is busy; try again in a moment." : "";
  const message = `${response.status} ${reason}.${hint}`;
  return new ApiError(response.status, `http_${response.status}`, message, retryAfter);
}

// A base64 PNG from the API (or a data: URL) as something an <img> can show.
export function pngSrc(value) {
  if (!value) return "";
  return value.startsWith("data:") ? value : `data:image/png;base64,${value}`;
}

// The query string of an object; arrays repeat the key, empty values are left out.
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== undefined && item !== null && item !== "") search.append(name, String(item));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// The body /predict, /explain/* and /models/*/feature_maps take: multipart field `file`.
export function imageForm(blob) {
  const form = new FormData();
  form.append("file", blob, blob.name || "image.png");
  return form;
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException("Aborted", "AbortError"));
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("Aborted", "AbortError"));
      },
      { once: true },
    );
  });
}

// Call again while the server answers 503 (busy), waiting as its Retry-After says.
export async function retryWhenBusy(call, signal, attempts = 20) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 503 || attempt >= attempts) throw error;
      await sleep(1000 * (error.retryAfter ?? 1), signal);
    }
  }
}
