// The employee's page: one switch for available / away, the referral picker, and what a
// caller gets right now. Kept current by the live feed (a receptionist may set a referral
// on the person's behalf, or the calendar may start a meeting).

import { api, describe, liveEvents, page, serverNow, t } from "./common.js";
import { bindPicker } from "./picker.js";

const base = `/api/v1/people/${encodeURIComponent(page.person_id)}`;
const card = document.getElementById("status-card");
const toggle = document.getElementById("toggle");
const toggleLabel = document.getElementById("toggle-label");
const detail = document.getElementById("status-detail");
const planned = document.getElementById("planned");
const backNow = document.getElementById("back-now");
const override = document.getElementById("override");
const cancelPlanned = document.getElementById("cancel-planned");
const pickerCard = document.getElementById("picker-card");
const toast = document.getElementById("me-toast");
const live = document.getElementById("me-live");

let current = null;
let toastTimer = 0;

function say(message) {
  toast.textContent = message;
  toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { toast.hidden = true; }, 4000);
}

function render() {
  const described = describe(current);
  const manual = current.manual;
  const manualReferral = Boolean(manual && manual.referral);
  const isPlanned = Boolean(manual && manual.starts && new Date(manual.starts) > serverNow());
  const available = described.state === "available";
  card.dataset.state = described.state;
  toggle.setAttribute("aria-checked", String(available));
  toggleLabel.textContent = available ? t("me.toggle_on") : t("me.toggle_off");
  let text = described.detail;
  let source = current.referral?.source;
  // Set by this very account: "by you", whatever the engine recorded as the source.
  if (source === "on_behalf" && manual && manual.set_by === page.username) source = "manual";
  if (!available && source) text += ` (${t(`source.${source}`)})`;
  detail.textContent = text;
  planned.hidden = !isPlanned;
  if (isPlanned) {
    const reason = t(`reason.${manual.referral.reason}`);
    const at = new Intl.DateTimeFormat(page.locale, {
      timeZone: page.zone, weekday: "short", hour: "2-digit", minute: "2-digit",
    }).format(new Date(manual.starts));
    planned.textContent = `${t("me.planned", { time: at })} · ${reason}`;
  }
  backNow.hidden = !(manualReferral && !isPlanned && !available);
  cancelPlanned.hidden = !isPlanned;
  override.hidden = available || manualReferral;
}

async function load() {
  current = await api("GET", `${base}/availability`);
  render();
  refreshPreview();
}

async function change(method, body, message) {
  current = await api(method, `${base}/availability`, body);
  render();
  refreshPreview();
  say(message);
}

const picker = bindPicker(document.getElementById("me-picker"), {
  templates: page.templates,
  async onSubmit(body) {
    await change("PUT", body, t("picker.saved"));
    pickerCard.hidden = true;
    toggle.focus();
  },
  onCancel() {
    pickerCard.hidden = true;
    toggle.focus();
  },
});

function openPicker() {
  picker.reset();
  pickerCard.hidden = false;
  pickerCard.scrollIntoView({ behavior: "smooth", block: "start" });
  picker.focusFirst();
}

async function becomeAvailable() {
  if (current.manual && current.manual.referral) {
    await change("DELETE", undefined, t("picker.saved"));
  }
  // Still away: the calendar or the working hours say so; override until that ends.
  if (describe(current).state !== "available") {
    const body = { state: "available" };
    if (current.referral?.until) body.until = current.referral.until;
    await change("PUT", body, t("picker.saved"));
  }
}

toggle.addEventListener("click", () => {
  if (!current) return;
  if (describe(current).state === "available") {
    if (pickerCard.hidden) openPicker();
    else pickerCard.hidden = true;
  } else {
    pickerCard.hidden = true;
    becomeAvailable().catch((err) => say(t("common.error", { message: err.message })));
  }
});
backNow.addEventListener("click", () => {
  change("DELETE", undefined, t("picker.saved"))
    .catch((err) => say(t("common.error", { message: err.message })));
});
cancelPlanned.addEventListener("click", () => {
  change("DELETE", undefined, t("picker.saved"))
    .catch((err) => say(t("common.error", { message: err.message })));
});
override.addEventListener("click", () => {
  becomeAvailable().catch((err) => say(t("common.error", { message: err.message })));
});

// ---- What a caller gets right now (R10, R11) -------------------------------------------
const previewAction = document.getElementById("preview-action");
const previewHears = document.getElementById("preview-hears");
const previewTargets = document.getElementById("preview-targets");
const previewWhy = document.getElementById("preview-why");

async function refreshPreview() {
  if (!page.preview) return;
  try {
    const preview = await api("GET", `${base}/route-preview`);
    const decision = preview.decision;
    previewWhy.textContent = preview.explanation;
    if (!decision) {
      previewAction.textContent = preview.explanation;
      previewHears.hidden = true;
      previewTargets.hidden = true;
      return;
    }
    previewAction.textContent = t(`preview.action.${decision.action}`);
    previewHears.hidden = !decision.announcement;
    previewHears.textContent = decision.announcement ? `“${decision.announcement}”` : "";
    previewHears.lang = page.announcement_lang || page.lang; // WCAG 3.1.2
    let targets = "";
    if (decision.action === "ring" && decision.targets) {
      const kinds = decision.targets.map((target) => t(`preview.target.${target.kind}`));
      targets = `${t("preview.rings")}: ${[...new Set(kinds)].join(", ")}`;
    } else if (decision.action === "divert") {
      targets = t("preview.divert_to", { to: decision.to_display || decision.to });
    }
    previewTargets.hidden = !targets;
    previewTargets.textContent = targets;
  } catch {
    previewAction.textContent = t("preview.unavailable");
  }
}

document.getElementById("preview-refresh")?.addEventListener("click", refreshPreview);

liveEvents(
  {
    person(message) {
      if (message.person_id === page.person_id) load();
    },
    voicemail(message) {
      // The inbox (voicemail.js) reloads itself; one feed per page, so it is told here.
      document.dispatchEvent(new CustomEvent("switchboard:voicemail", { detail: message }));
    },
    reload() { load(); },
  },
  (connected) => { live.hidden = !connected; },
);

load().catch((err) => { detail.textContent = t("common.error", { message: err.message }); });
