// Before the session ends unused (WCAG 2.2.1, issue 16): a few minutes ahead a dialog
// says when, and "Fortsätt inloggad" renews it (POST /api/v1/session/extend), with the
// focus back where it was and nothing typed lost. The page asks the server how long is
// left (GET /api/v1/session, which does not renew it) before it warns, so activity in
// another tab or any request of this one simply moves the warning on. If the end comes,
// found by this timer or by any request of the page, the dialog says so and offers to
// sign in again; the page stays as it was underneath.

import { announce, localTime, page, serverNow, t } from "./common.js";

const dialog = document.getElementById("session-dialog");
const text = document.getElementById("session-text");
const title = document.getElementById("session-title");
const extend = document.getElementById("session-extend");
const signin = document.getElementById("session-signin");
const error = document.getElementById("session-error");
const RETRY = 15000;

let timer = 0;
let returnTo = null;
let ended = false;

/** The session's time as the server says it, or null once it has ended (401). */
async function ask(method, url) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = page.csrf || "";
  const response = await fetch(url, { method, headers, credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

function later(seconds) {
  window.clearTimeout(timer);
  timer = window.setTimeout(check, Math.max(0, seconds * 1000));
}

/** Warn `warn_before` seconds ahead of the end; check again at the end itself. */
function plan(times) {
  if (times.expires_in > times.warn_before) {
    if (dialog.open) close();
    later(times.expires_in - times.warn_before);
    return;
  }
  open(times);
  later(times.expires_in + 1);
}

async function check() {
  if (ended) return;
  try {
    const times = await ask("GET", "/api/v1/session");
    if (times === null) end();
    else plan(times);
  } catch {
    later(RETRY / 1000); // the network may be back in a moment; the session may be too
  }
}

function endsAt(times) {
  return localTime(new Date(serverNow().getTime() + times.expires_in * 1000));
}

function open(times) {
  // Renewing gains nothing when the absolute lifetime is what ends it: say so instead.
  const final = times.expires_in < times.warn_before - 5 && times.renewed;
  text.textContent = t(final ? "session.final" : "session.warning", { time: endsAt(times) });
  const hadFocus = document.activeElement === extend;
  extend.hidden = final;
  error.hidden = true;
  if (dialog.open) {
    if (final && hadFocus) text.focus(); // the button went away: focus stays in the dialog
    return;
  }
  returnTo = document.activeElement;
  // A dialog already open (a referral being written) stays underneath, as it was.
  dialog.showModal();
  (final ? text : extend).focus();
}

function close() {
  dialog.close();
}

function end() {
  if (ended) return; // said once: a second request finding the end changes nothing
  ended = true;
  window.clearTimeout(timer);
  title.textContent = t("session.ended_title");
  text.textContent = t("session.ended");
  extend.hidden = true;
  signin.hidden = false;
  error.hidden = true;
  if (!dialog.open) {
    returnTo = document.activeElement;
    dialog.showModal();
  }
  signin.focus();
}

extend.addEventListener("click", async () => {
  try {
    const times = await ask("POST", "/api/v1/session/extend");
    if (times === null) {
      end();
      return;
    }
    if (times.expires_in <= times.warn_before) {
      plan({ ...times, renewed: true }); // the 12 hours are up soon: nothing to renew
      return;
    }
    close();
    announce(t("session.extended"));
    plan(times);
  } catch {
    error.textContent = t("session.error");
    error.hidden = false;
  }
});

// Esc is "not now": the session keeps running down, and the dialog comes back at the end.
dialog.addEventListener("cancel", (event) => {
  if (ended) event.preventDefault();
});
dialog.addEventListener("close", () => {
  if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
  returnTo = null;
});

if (dialog && page.session) {
  plan(page.session);
  // Any request of the page may be the first to find the end (common.js's api()).
  document.addEventListener("switchboard:session-ended", (event) => {
    event.preventDefault();
    end();
  });
}
