// Long jobs (activation maximisation): start with a POST that answers 202 {job_id, status_url},
// poll GET /jobs/{id} until it is done, cancel with DELETE /jobs/{id}.
import { apiFetch, apiJson, retryWhenBusy, sleep } from "./api.js";

const FINISHED = new Set(["done", "cancelled", "failed"]);

// POST the job; a full queue (503) is waited out as its Retry-After says.
export async function startJob(path, body, signal) {
  const call = () =>
    apiJson(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  return retryWhenBusy(call, signal);
}

export function statusUrl(job) {
  return job.status_url || `/jobs/${encodeURIComponent(job.job_id)}`;
}

// Poll every `interval` ms; onUpdate(status) each time; resolves with the last status.
export async function followJob(job, onUpdate, signal, interval = 500) {
  for (;;) {
    const status = await apiJson(statusUrl(job), { signal });
    onUpdate(status);
    if (FINISHED.has(status.status)) return status;
    await sleep(interval, signal);
  }
}

export async function cancelJob(job) {
  try {
    await apiFetch(`/jobs/${encodeURIComponent(job.job_id)}`, { method: "DELETE" });
  } catch {
    // already finished or gone: nothing to cancel
  }
}
