// The calendar the employee connects themselves (issue 16): an ICS address or their
// Microsoft 365 mailbox, as far as the administrator allows; then the last sync, any error,
// and "Koppla från". GET/PUT/DELETE /api/v1/people/{id}/calendar. The server checks
// everything; a refusal is said under its field in the reader's words (error.<code>).

import { api, page, t, whenText } from "./common.js";

const root = document.getElementById("own-calendar");
const FIRST_SYNC_POLL_MS = 3000;
const POLL_MS = 60000;

if (root) {
  const url = `/api/v1/people/${encodeURIComponent(page.person_id)}/calendar`;
  const status = document.getElementById("own-calendar-status");
  const address = document.getElementById("own-calendar-address");
  const sync = document.getElementById("own-calendar-sync");
  const error = document.getElementById("own-calendar-error");
  const inactive = document.getElementById("own-calendar-inactive");
  const disconnect = document.getElementById("own-calendar-disconnect");
  const form = document.getElementById("own-calendar-form");
  const formError = document.getElementById("own-calendar-form-error");
  const toast = document.getElementById("own-calendar-toast");
  const none = document.getElementById("calendar-none");
  const fields = {
    url: document.getElementById("own-calendar-url"),
    mailbox: document.getElementById("own-calendar-mailbox"),
  };
  const fieldErrors = {
    url: document.getElementById("own-calendar-url-error"),
    mailbox: document.getElementById("own-calendar-mailbox-error"),
  };
  let timer = null;

  const kind = () => form.elements.kind.value;

  function showKind() {
    const urlField = document.getElementById("own-calendar-url-field");
    const mailboxField = document.getElementById("own-calendar-mailbox-field");
    if (urlField) urlField.hidden = kind() !== "ics";
    if (mailboxField) mailboxField.hidden = kind() !== "graph";
  }

  function clearErrors() {
    formError.hidden = true;
    formError.textContent = "";
    for (const name of Object.keys(fields)) {
      if (!fields[name]) continue;
      fields[name].removeAttribute("aria-invalid");
      fieldErrors[name].hidden = true;
      fieldErrors[name].textContent = "";
    }
  }

  function say(text) {
    toast.textContent = text;
    toast.hidden = false;
  }

  function render(state) {
    const connected = state.connected;
    status.hidden = !connected;
    form.hidden = connected || !(state.allowed.ics || state.allowed.graph);
    if (none) none.hidden = connected;
    if (!connected) return;
    address.textContent = t("calendar.connected", { name: state.address });
    const parts = [t(`calendar.own_kind.${state.kind}`)];
    parts.push(state.last_sync
      ? t("calendar.synced", { time: whenText(new Date(state.last_sync)) })
      : t("calendar.own_not_synced"));
    if (state.next_sync) parts.push(t("calendar.own_next", { time: whenText(new Date(state.next_sync)) }));
    sync.textContent = parts.join(" · ");
    error.hidden = !state.last_error;
    error.textContent = state.last_error ? t("calendar.own_error", { error: state.last_error }) : "";
    inactive.hidden = state.active;
  }

  function schedule(state) {
    clearTimeout(timer);
    if (!state.connected) return;
    const wait = state.last_sync ? POLL_MS : FIRST_SYNC_POLL_MS;
    timer = setTimeout(refresh, wait);
  }

  async function refresh() {
    try {
      const state = await api("GET", url);
      render(state);
      schedule(state);
    } catch {
      timer = setTimeout(refresh, POLL_MS); // a passing outage: try again later
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") {
      clearErrors();
      showKind();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    toast.hidden = true;
    const wanted = kind();
    const body = wanted === "ics"
      ? { kind: "ics", url: fields.url.value }
      : { kind: "graph", mailbox: fields.mailbox.value };
    const button = document.getElementById("own-calendar-connect");
    button.disabled = true;
    try {
      const state = await api("PUT", url, body);
      if (fields.url) fields.url.value = ""; // the address is a secret: not left on screen
      render(state);
      schedule(state);
      say(t("calendar.own_connected_toast"));
    } catch (err) {
      const field = err.field && fields[err.field] ? err.field : null;
      if (field) {
        fieldErrors[field].textContent = err.message;
        fieldErrors[field].hidden = false;
        fields[field].setAttribute("aria-invalid", "true");
        fields[field].focus();
      } else {
        formError.textContent = t("common.error", { message: err.message });
        formError.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  });

  disconnect.addEventListener("click", async () => {
    disconnect.disabled = true;
    toast.hidden = true;
    try {
      const state = await api("DELETE", url);
      render(state);
      schedule(state);
      showKind();
      say(t("calendar.own_disconnected_toast"));
    } catch (err) {
      say(t("common.error", { message: err.message }));
    } finally {
      disconnect.disabled = false;
    }
  });

  showKind();
  render(page.own_calendar);
  schedule(page.own_calendar);
}
