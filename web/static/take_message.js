// "Take a message" on the receptionist screen (issue 5): a button on every person's row
// opens a small dialog (caller's name and number, the message, call back or not); the
// server stores the message and e-mails it to the person, never an SMS (R20), and answers
// whether the e-mail went (`email.status`), which the dialog says in plain words.
//
// The rows belong to reception.js; this file only adds its button to each row as the row
// appears (a MutationObserver), so the two scripts stay independent.

import { api, clearField, markField, page, t } from "./common.js";

const dialog = document.getElementById("message-dialog");
const list = document.getElementById("results");

function bindTakeMessage() {
  const form = document.getElementById("message-form");
  const title = document.getElementById("message-title");
  const error = document.getElementById("message-error");
  const submit = document.getElementById("message-submit");
  const result = document.getElementById("message-result");
  const resultTitle = document.getElementById("message-result-title");
  const email = document.getElementById("message-email");
  // Each body field the server may refuse, with the element that says why under it.
  const fields = {
    caller_name: document.getElementById("message-caller-name-error"),
    caller_number: document.getElementById("message-number-error"),
    text: document.getElementById("message-text-error"),
  };
  let target = null; // { id, name }
  let opener = null;

  function open(personId, name, button) {
    target = { id: personId, name };
    opener = button;
    form.reset();
    form.hidden = false;
    result.hidden = true;
    error.hidden = true;
    clearFields();
    submit.removeAttribute("aria-disabled");
    title.textContent = t("tm.title_for", { name });
    dialog.showModal();
    form.elements.caller_name.focus();
  }

  function addButton(li) {
    const actions = li.querySelector(".cell-actions");
    if (!actions || actions.querySelector('[data-action="message"]')) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-secondary btn-small";
    button.dataset.action = "message";
    button.textContent = t("tm.button");
    button.addEventListener("click", () => {
      const name = li.querySelector(".person-name")?.textContent || "";
      open(li.dataset.personId, name, button);
    });
    const refer = actions.querySelector('[data-action="refer"]');
    if (refer) refer.after(button);
    else actions.prepend(button);
  }

  function clearFields() {
    for (const [name, element] of Object.entries(fields)) clearField([form.elements[name]], element);
  }

  /** A refusal is said under the field it concerns, in the reader's words (issue 16,
   * WCAG 3.3.1): a missing name, an impossible number, a secret number in the text (R18). */
  function showFieldError(name, message) {
    markField([form.elements[name]], fields[name], message);
    form.elements[name].focus();
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  /** What the receptionist is told about the e-mail: never a silent "done". */
  function emailText(answer) {
    const status = answer.email.status;
    const values = { name: target.name, error: answer.email.error || "" };
    return { text: t(`tm.email.${status}`, values), ok: status === "sent" };
  }

  form.addEventListener("input", (event) => {
    error.hidden = true;
    const name = event.target.name;
    if (fields[name]) clearField([event.target], fields[name]);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Busy: aria-disabled, not disabled, so focus stays on the button through a refusal
    // (WCAG 2.4.3); a second press meanwhile does nothing.
    if (submit.getAttribute("aria-disabled") === "true") return;
    error.hidden = true;
    clearFields();
    const f = form.elements;
    const body = {
      caller_name: f.caller_name.value.trim(),
      text: f.text.value.trim(),
      call_back: f.call_back.value === "yes",
    };
    const number = f.caller_number.value.trim();
    if (number) body.caller_number = number;
    if (!body.caller_name) {
      showFieldError("caller_name", t("tm.need_name"));
      return;
    }
    if (!body.text) {
      showFieldError("text", t("tm.need_text"));
      return;
    }
    submit.setAttribute("aria-disabled", "true");
    try {
      const url = `/api/v1/people/${encodeURIComponent(target.id)}/messages`;
      const answer = await api("POST", url, body);
      const said = emailText(answer);
      form.hidden = true;
      result.hidden = false;
      result.dataset.status = answer.email.status;
      email.textContent = said.text;
      email.className = `notice ${said.ok ? "notice-ok" : "notice-secret"}`;
      resultTitle.focus();
    } catch (err) {
      // common.js words a refusal from its code (bad_number, secret_number, ...) in the
      // reader's language; one naming a field of the form is shown under that field.
      if (fields[err.field]) showFieldError(err.field, err.message);
      else showError(err.message);
      submit.removeAttribute("aria-disabled");
    }
  });

  for (const closer of dialog.querySelectorAll("[data-close]")) {
    closer.addEventListener("click", () => dialog.close());
  }
  // The screen's "/" jumps to the search; inside this dialog a "/" is just a character.
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "/") event.stopPropagation();
  });
  dialog.addEventListener("close", () => {
    if (opener?.isConnected) opener.focus();
  });

  for (const li of list.querySelectorAll(".person")) addButton(li);
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node instanceof HTMLElement && node.matches(".person")) addButton(node);
      }
    }
  }).observe(list, { childList: true });
}

if (dialog && list && page.may_take_message) bindTakeMessage();
