// The administration pages: saving roles, granting and revoking R16 exceptions, asking
// for and deciding on R19 call lists. Every change goes through the JSON API with the
// session's CSRF token (common.js); the server re-renders the page afterwards.

import {
  ApiError, api, clearField, localDate, markField, page, serverNow, t, zonedInstant,
} from "./common.js";

const toast = document.getElementById("admin-toast");
let toastTimer = 0;

function say(message) {
  toast.textContent = message;
  toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { toast.hidden = true; }, 4000);
}

function showError(element, err) {
  element.textContent = t("common.error", { message: err.message });
  element.hidden = false;
}

/** Run `action` with the form's buttons disabled; errors go to `errorBox`. */
async function busy(form, errorBox, action) {
  const buttons = [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  if (errorBox) errorBox.hidden = true;
  try {
    await action();
  } catch (err) {
    if (errorBox) showError(errorBox, err);
    else say(t("common.error", { message: err.message }));
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

// ---- Plain forms (the import): no double submits ----------------------------------------
for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", () => {
    window.setTimeout(() => {
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    }, 0);
  });
}

// ---- People and roles ---------------------------------------------------------------------
// The search and the pages are plain links and a GET form (the server pages the list).

for (const form of document.querySelectorAll(".roles-form")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const roles = [...form.querySelectorAll("input[name=role]:checked")].map((i) => i.value);
    const username = form.dataset.username;
    busy(form, null, async () => {
      await api("PUT", `/api/v1/admin/accounts/${encodeURIComponent(username)}/roles`, { roles });
      say(t("people.saved", { name: username }));
    });
  });
}

// ---- Accounts: create, disable, enable, one-time password link (issue 16) ---------------
const linkBox = document.getElementById("password-link");

/** Show a one-time link once: it is in no page and no answer after this one. */
function showLink(name, answer) {
  const url = new URL(answer.link, window.location.origin).href;
  const expires = new Intl.DateTimeFormat(page.locale, {
    dateStyle: "medium", timeStyle: "short", timeZone: page.zone,
  }).format(new Date(answer.expires * 1000));
  document.getElementById("password-link-intro").textContent =
    t("people.link_intro", { name, expires });
  document.getElementById("password-link-url").value = url;
  linkBox.hidden = false;
  linkBox.focus();
}

document.getElementById("password-link-copy")?.addEventListener("click", async () => {
  const field = document.getElementById("password-link-url");
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    say(t("people.link_copied"));
  } catch {
    // No clipboard (an insecure origin): the link stays selected for copying by hand.
  }
});

const ACTIONS = {
  disable: (name) => t("people.disabled_done", { name }),
  enable: (name) => t("people.enabled_done", { name }),
};

for (const button of document.querySelectorAll("button[data-account-action]")) {
  // Two steps instead of a browser dialog: the first click asks, the second acts.
  button.addEventListener("click", () => {
    const form = button.closest(".roles-form");
    const action = button.dataset.accountAction;
    if (action !== "enable" && button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.dataset.label = button.textContent;
      button.textContent = t("people.confirm");
      button.classList.add("btn-danger");
      return;
    }
    const username = form.dataset.username;
    busy(form, null, async () => {
      const url = `/api/v1/admin/accounts/${encodeURIComponent(username)}/${action}`;
      const answer = await api("POST", url, {});
      if (action === "password-link") {
        button.dataset.armed = "false";
        button.textContent = button.dataset.label;
        button.classList.remove("btn-danger");
        showLink(form.dataset.name || username, answer);
      } else {
        say(ACTIONS[action](username));
        window.setTimeout(() => window.location.reload(), 600);
      }
    });
  });
}

const create = document.getElementById("new-account");
if (create) {
  const general = document.getElementById("new-account-error");
  const fieldErrors = ["username", "person", "display_name", "roles"].map(
    (name) => document.getElementById(`new-${name}-error`),
  );
  create.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const box of fieldErrors) box.hidden = true;
    for (const input of create.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const body = {
      username: create.elements.username.value.trim(),
      roles: [...create.querySelectorAll("input[name=role]:checked")].map((i) => i.value),
    };
    const person = create.elements.person.value.trim();
    const displayName = create.elements.display_name.value.trim();
    if (person) body.person = person;
    if (displayName) body.display_name = displayName;
    const buttons = [...create.querySelectorAll("button")];
    for (const b of buttons) b.disabled = true;
    general.hidden = true;
    api("POST", "/api/v1/admin/accounts", body)
      .then((answer) => {
        say(t("people.created", { name: answer.username }));
        create.reset();
        showLink(answer.display_name, answer.password_link);
      })
      .catch((err) => {
        const box = err.field && document.getElementById(`new-${err.field}-error`);
        if (box) {
          box.textContent = err.message;
          box.hidden = false;
          const input = create.elements[err.field];
          if (input && input.setAttribute) {
            input.setAttribute("aria-invalid", "true");
            input.focus();
          }
        } else {
          showError(general, err);
        }
      })
      .finally(() => {
        for (const b of buttons) b.disabled = false;
      });
  });
}

// ---- Policy exceptions (R16) -----------------------------------------------------------
/** Names as suggestions while the administrator types a person (the directory search, a
 * few at a time) into a <datalist>: the field stays a plain text input that browsers and
 * screen readers know, and what is typed goes to the server as it is if none is picked. */
function suggestPeople(input, datalist) {
  let timer = 0;
  let asked = 0;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const query = input.value.trim();
    if (query.length < 2) {
      datalist.replaceChildren();
      return;
    }
    timer = window.setTimeout(async () => {
      const mine = ++asked;
      let people = [];
      try {
        people = (await api("GET", `/api/v1/people?q=${encodeURIComponent(query)}&limit=8`)).people;
      } catch {
        people = []; // only suggestions: the form works without them, the server decides
      }
      if (mine !== asked) return;
      datalist.replaceChildren(...people.map((p) => new Option(
        [p.name, p.extension, p.email].filter(Boolean).join(" · "),
        p.email || p.extension || p.id,
      )));
    }, 200);
  });
}

const grant = document.getElementById("grant-form");
if (grant) {
  const error = document.getElementById("grant-error");
  const fieldError = (name) => grant.querySelector(`[data-error-for="${name}"]`);
  // A refusal is said under the field it concerns (issue 16, WCAG 3.3.1).
  const refuse = (name, message) => {
    markField([grant.elements[name]], fieldError(name), message);
    grant.elements[name].focus();
  };
  const clearFields = () => {
    for (const name of ["subject", "rule", "reason"]) {
      clearField([grant.elements[name]], fieldError(name));
    }
  };
  grant.addEventListener("input", (event) => {
    if (fieldError(event.target.name)) clearField([event.target], fieldError(event.target.name));
  });
  suggestPeople(grant.elements.subject, document.getElementById("grant-subject-people"));
  grant.addEventListener("submit", (event) => {
    event.preventDefault();
    clearFields();
    const body = {
      subject: grant.elements.subject.value.trim(),
      rule: grant.elements.rule.value,
      reason: grant.elements.reason.value.trim(),
    };
    if (!body.subject) {
      refuse("subject", t("policy.subject_needed"));
      return;
    }
    if (body.reason.length < 5) {
      refuse("reason", t("policy.reason_hint"));
      return;
    }
    busy(grant, error, async () => {
      try {
        await api("POST", "/api/v1/admin/exceptions", body);
      } catch (err) {
        if (!(err instanceof ApiError && fieldError(err.field))) throw err; // above the button
        refuse(err.field, err.message);
        return;
      }
      window.location.reload();
    });
  });
}

let revokeFields = 0;
for (const button of document.querySelectorAll("button[data-revoke]")) {
  // Two steps instead of a browser dialog: the first click asks, the second revokes.
  button.addEventListener("click", async () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = button.dataset.confirm;
      button.classList.add("btn-danger");
      // Why it ends goes into the audit next to who ended it (R16).
      // A visible label, not a placeholder that goes away as one types (WCAG 3.3.2).
      const reason = document.createElement("input");
      reason.type = "text";
      reason.className = "revoke-reason";
      revokeFields += 1;
      reason.id = `revoke-reason-${revokeFields}`;
      const label = document.createElement("label");
      label.className = "small revoke-label";
      label.htmlFor = reason.id;
      label.textContent = t("policy.revoke_reason");
      button.before(label, reason);
      reason.focus();
      return;
    }
    button.disabled = true;
    const reasonField = button.previousElementSibling;
    const reason = reasonField && reasonField.classList.contains("revoke-reason")
      ? reasonField.value.trim() : "";
    try {
      await api("POST", "/api/v1/admin/exceptions/revoke", {
        subject: button.dataset.subject,
        rule: button.dataset.rule,
        ...(reason ? { reason } : {}),
      });
      window.location.reload();
    } catch (err) {
      button.disabled = false;
      say(t("common.error", { message: err.message }));
    }
  });
}

// ---- Call lists (R19) --------------------------------------------------------------------
function nextDay(dateText) {
  const [y, m, d] = dateText.split("-").map(Number);
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return next.toISOString().slice(0, 10);
}

const ask = document.getElementById("ask-form");
if (ask) {
  const error = document.getElementById("ask-error");
  const today = serverNow();
  const yesterday = localDate(new Date(today.getTime() - 24 * 3600 * 1000));
  const weekAgo = localDate(new Date(today.getTime() - 7 * 24 * 3600 * 1000));
  ask.elements.from.value = weekAgo;
  ask.elements.to.value = yesterday;
  ask.elements.to.max = yesterday;
  ask.elements.from.max = yesterday;
  ask.addEventListener("submit", (event) => {
    event.preventDefault();
    const from = ask.elements.from.value;
    const to = ask.elements.to.value;
    const reason = ask.elements.reason.value.trim();
    if (!from || !to || reason.length < 5) {
      showError(error, new Error(t("calls.fill_in")));
      return;
    }
    // The last day counts whole: the period ends when the day after it begins.
    const body = {
      person_id: ask.elements.person_id.value,
      start: zonedInstant(from, "00:00").toISOString(),
      end: zonedInstant(nextDay(to), "00:00").toISOString(),
      reason,
    };
    busy(ask, error, async () => {
      await api("POST", "/api/v1/call-lists", body);
      window.location.reload();
    });
  });
}

for (const form of document.querySelectorAll(".decide-form")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const verdict = event.submitter?.value === "reject" ? "reject" : "approve";
    const comment = form.elements.comment.value.trim();
    const error = form.closest(".request").querySelector(".form-error");
    if (comment.length < 5) {
      showError(error, new Error(t("calls.comment_hint")));
      return;
    }
    busy(form, error, async () => {
      await api("POST", `/api/v1/call-lists/${form.dataset.id}/${verdict}`, { comment });
      window.location.reload();
    });
  });
}

if (page.page === "admin-import") {
  document.getElementById("import-errors")?.scrollIntoView({ block: "nearest" });
}
