// The API-key dialog: shown when a call answers 401, once for all the calls waiting on it.
let pending = null;

export function askForKey(reason) {
  if (!pending) {
    pending = showDialog(reason).finally(() => {
      pending = null;
    });
  }
  return pending;
}

function showDialog(reason) {
  const dialog = document.getElementById("auth-dialog");
  const input = document.getElementById("auth-key");
  const help = document.getElementById("auth-help");
  const form = document.getElementById("auth-form");
  const cancel = document.getElementById("auth-cancel");
  if (!dialog || typeof dialog.showModal !== "function") {
    const answer = window.prompt("API key for this server:");
    return Promise.resolve(answer ? answer.trim() : null);
  }
  const opener = document.activeElement;
  help.textContent = `${reason ? reason + " " : ""}This server asks for an API key. It is kept for this browser tab only.`;
  input.value = "";
  return new Promise((resolve) => {
    const finish = (value) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      if (opener && typeof opener.focus === "function") opener.focus();
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) finish(key);
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
}
