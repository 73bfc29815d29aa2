// The referral picker (R6): quick choices and templates fill the form; the form becomes the
// body of PUT /api/v1/people/{id}/availability. Times are the organisation's wall clock.

import {
  ApiError, addMinutes, localDate, localTime, serverNow, t, zonedInstant,
} from "./common.js";

function roundUp(date, minutes) {
  const step = minutes * 60000;
  return new Date(Math.ceil(date.getTime() / step) * step);
}

export function bindPicker(form, { templates = [], onSubmit, onCancel }) {
  const f = form.elements;
  const error = form.querySelector(".form-error");
  const submit = form.querySelector('button[type="submit"]');
  const title = form.querySelector(".picker-title");

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

  const quick = {
    lunch() {
      f.reason.value = "lunch";
      setUntil(roundUp(addMinutes(serverNow(), 60), 5));
    },
    meeting() {
      f.reason.value = "meeting";
      f.until_date.value = localDate(serverNow());
      f.until_time.value = "";
      f.until_time.focus();
    },
    gone() {
      f.reason.value = "gone_for_the_day";
      setUntil(null);
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
      showError("");
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
        ? roundUp(addMinutes(serverNow(), template.duration_minutes), 5) : null);
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

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Busy: aria-disabled, not disabled, so the focused button keeps the focus through a
    // refusal (WCAG 2.4.3); a second press meanwhile does nothing.
    if (submit.getAttribute("aria-disabled") === "true") return;
    showError("");
    if (!f.reason.value) {
      showError(t("picker.need_reason"));
      f.reason.focus();
      return;
    }
    const body = { state: "referral", reason: f.reason.value, kind: f.kind.value || "closed" };
    const until = instantOf(f.until_date, f.until_time);
    if (until) body.until = until;
    const starts = instantOf(f.starts_date, f.starts_time);
    if (starts) body.starts = starts;
    const text = f.text.value.trim();
    if (text) body.text = text;
    submit.setAttribute("aria-disabled", "true");
    try {
      await onSubmit(body);
    } catch (err) {
      showError(t("picker.error", { message: err instanceof ApiError ? err.message : String(err) }));
      if (err instanceof ApiError && err.field === "text") f.text.focus(); // R18: the note
    } finally {
      submit.removeAttribute("aria-disabled");
    }
  });

  form.querySelector("[data-cancel]").addEventListener("click", () => onCancel());

  return {
    reset(heading) {
      form.reset();
      press(null);
      showError("");
      if (heading) title.textContent = heading;
    },
    focusFirst() {
      form.querySelector(".chip").focus();
    },
  };
}
