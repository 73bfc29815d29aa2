// Sign-in: posts the form as JSON to POST /signin and goes on to the page asked for. One
// message for every refusal: it never says whether the username or the password was wrong.
// Without JavaScript the same form posts itself (the server redirects or shows the error).

import { page, t } from "./common.js";

const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");
const submit = document.getElementById("signin-submit");

function show(message) {
  error.textContent = message;
  error.hidden = !message;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show("");
  form.elements.username.removeAttribute("aria-invalid");
  form.elements.password.removeAttribute("aria-invalid");
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username || !password) {
    show(t("signin.failed"));
    return;
  }
  submit.disabled = true;
  submit.textContent = t("signin.busy");
  try {
    const response = await fetch("/signin", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        // Signed in already (signing in as someone else): the session's CSRF token.
        ...(page.csrf ? { "X-CSRF-Token": page.csrf } : {}),
      },
      credentials: "same-origin",
      body: JSON.stringify({ username, password }),
    });
    if (response.ok) {
      window.location.assign(form.dataset.next || "/");
      return;
    }
    if (response.status === 401 || response.status === 400) {
      show(t("signin.failed"));
    } else if (response.status === 429) {
      const seconds = response.headers.get("Retry-After") || "5";
      show(t("signin.throttled", { seconds }));
    } else {
      show(t("signin.error", { status: response.status }));
    }
  } catch {
    show(t("signin.error", { status: "—" }));
  } finally {
    submit.disabled = false;
    submit.textContent = t("signin.submit");
  }
  form.elements.password.select();
});
