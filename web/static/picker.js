// The referral picker (R6): quick choices and templates fill the form; the form becomes the
// body of PUT /api/v1/people/{id}/availability. Times are the organisation's wall clock.
// Quick choices fill a sensible return time, so the form can be saved at once (issue 16);
// a refusal is said in the reader's words on the field it concerns (WCAG 3.3.1).

import {
  ApiError, addMinutes, clearField, localDate, localTime, markField, serverNow, t, zonedInstant,
} from "./common.js";

function roundUp(date, minutes) {
  const step = minutes * 60000;
  return new Date(Math.ceil(date.getTime() / step) * step);
}

/** `minutes` from now, rounded up to `step` minutes; the seconds past this minute do not
 * count, so at 10:00:20 a meeting of an hour ends at 11:00, not 11:15. */
function fromNow(minutes, step) {
  const now = serverNow();
  now.setSeconds(0, 0);
  return roundUp(addMinutes(now, minutes), step);
}

/** The body fields the server may refuse, and the form inputs that make each of them. */
const FIELD_INPUTS = {
  reason: ["reason"],
  until: ["until_date", "until_time"],
  text: ["text"],
  starts: ["starts_date", "starts_time"],
};

/** `goneUntil`: when "gone for the day" ends (the person's next working day), if known. */
export function bindPicker(form, { templates = [], goneUntil = null, onSubmit, onCancel }) {
  const f = form.elements;
  const error = form.querySelector(".form-error:not(.field-error)"); // not a field's own
  const submit = form.querySelector('button[type="submit"]');
  const title = form.querySelector(".picker-title");
  const planBox = form.querySelector("details.plan");
  const submitText = submit.textContent;
  let planning = false; // "Plan an absence" (issue 16): the start is asked for, not optional

  function setUntil(date) {
    f.until_date.value = date ? localDate(date) : "";
    f.until_time.value = date ? localTime(date) : "";
  }

  function press(button) {
    for (const chip of form.querySelectorAll(".chip")) {
      chip.setAttribute("aria-pressed", String(chip === button));
    }
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  function fieldParts(name) {
    const element = form.querySelector(`[data-error-for="${name}"]`);
    if (!FIELD_INPUTS[name] || !element) return null;
    return { inputs: FIELD_INPUTS[name].map((n) => f[n]), element };
  }

  function clearErrors() {
    showError("");
    for (const name of Object.keys(FIELD_INPUTS)) {
      const parts = fieldParts(name);
      if (parts) clearField(parts.inputs, parts.element);
    }
  }

  /** Say `message` on `field` (a body field's public name), or above the buttons. */
  function refuse(field, message) {
    const parts = field ? fieldParts(field) : null;
    if (!parts) {
      showError(t("picker.error", { message }));
      return;
    }
    if (field === "starts") form.querySelector("details.plan").open = true;
    markField(parts.inputs, parts.element, message);
    parts.inputs[parts.inputs.length - 1].focus(); // the time, or the only input
  }

  const quick = {
    lunch() {
      f.reason.value = "lunch";
      setUntil(fromNow(60, 5));
    },
    meeting() {
      // An hour, rounded up to the quarter: saved at once, or the time adjusted first.
      f.reason.value = "meeting";
      setUntil(fromNow(60, 15));
      f.until_time.focus();
    },
    gone() {
      // The next working day's start, as the server would set it; a page left open past
      // it sends none, and the server works it out again.
      f.reason.value = "gone_for_the_day";
      const until = goneUntil ? new Date(goneUntil) : null;
      setUntil(until && until > serverNow() ? until : null);
    },
    holiday() {
      f.reason.value = "holiday";
      setUntil(null);
      f.until_date.focus();
    },
  };

  for (const chip of form.querySelectorAll(".chip")) {
    chip.setAttribute("aria-pressed", "false");
    chip.addEventListener("click", () => {
      press(chip);
      clearErrors();
      if (chip.dataset.quick) {
        f.kind.value = "closed";
        quick[chip.dataset.quick]();
        return;
      }
      const template = templates[Number(chip.dataset.template)];
      f.reason.value = template.reason;
      f.kind.value = template.kind;
      f.text.value = template.text || "";
      setUntil(template.duration_minutes
        ? fromNow(template.duration_minutes, 5) : null);
    });
  }

  /** Date and/or time fields as an ISO instant; a time alone that has passed means tomorrow. */
  function instantOf(dateField, timeField) {
    const date = dateField.value;
    const time = timeField.value;
    if (!date && !time) return undefined;
    const now = serverNow();
    let at = zonedInstant(date || localDate(now), time || "00:00");
    if (!date && at <= now) at = zonedInstant(localDate(addMinutes(at, 24 * 60)), time);
    return at.toISOString();
  }

  form.addEventListener("input", (event) => {
    for (const name of Object.keys(FIELD_INPUTS)) {
      const parts = fieldParts(name);
      if (parts && parts.inputs.includes(event.target)) clearField(parts.inputs, parts.element);
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Busy: aria-disabled, not disabled, so the focused button keeps the focus through a
    // refusal (WCAG 2.4.3); a second press meanwhile does nothing.
    if (submit.getAttribute("aria-disabled") === "true") return;
    clearErrors();
    if (!f.reason.value) {
      refuse("reason", t("picker.need_reason"));
      return;
    }
    const body = { state: "referral", reason: f.reason.value, kind: f.kind.value || "closed" };
    const until = instantOf(f.until_date, f.until_time);
    if (until) body.until = until;
    const starts = instantOf(f.starts_date, f.starts_time);
    if (starts) body.starts = starts;
    if (planning && !starts) {
      refuse("starts", t("plans.need_start"));
      return;
    }
    const text = f.text.value.trim();
    if (text) body.text = text;
    submit.setAttribute("aria-disabled", "true");
    try {
      await onSubmit(body);
    } catch (err) {
      // common.js has worded it from the server's code (never its English); R18's refusal
      // of a secret number in the note lands on the note.
      if (err instanceof ApiError) refuse(err.field, err.message);
      else showError(t("picker.error", { message: t("error.generic", { status: "—" }) }));
    } finally {
      submit.removeAttribute("aria-disabled");
    }
  });

  form.querySelector("[data-cancel]").addEventListener("click", () => onCancel());

  return {
    reset(heading) {
      form.reset();
      press(null);
      clearErrors();
      if (heading) title.textContent = heading;
      planning = false;
      planBox.open = false;
      submit.textContent = submitText;
    },
    /** Ask for the start first: a plan beside the current status (issue 16). */
    plan(heading) {
      this.reset(heading);
      planning = true;
      planBox.open = true;
      submit.textContent = t("plans.submit");
      f.starts_date.focus();
    },
    focusFirst() {
      form.querySelector(".chip").focus();
    },
  };
}
