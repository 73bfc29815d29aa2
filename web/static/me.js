// The employee's page: one switch for available / away, the referral picker, and what a
// caller gets right now. Kept current by the live feed (a receptionist may set a referral
// on the person's behalf, or the calendar may start a meeting).

import {
  ApiError, api, describe, liveEvents, page, planText, plannedText, t,
} from "./common.js";
import { bindPicker } from "./picker.js";

const base = `/api/v1/people/${encodeURIComponent(page.person_id)}`;
const card = document.getElementById("status-card");
const toggle = document.getElementById("toggle");
const toggleLabel = document.getElementById("toggle-label");
const detail = document.getElementById("status-detail");
const backNow = document.getElementById("back-now");
const override = document.getElementById("override");
const plansList = document.getElementById("plans-list");
const plansEmpty = document.getElementById("plans-empty");
const planAdd = document.getElementById("plan-add");
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
  backNow.hidden = !(manualReferral && !available);
  override.hidden = available || manualReferral;
  renderPlans(current.plans || []);
}

// ---- Planned referrals beside the current status (issue 16) -----------------------------
function renderPlans(plans) {
  plansEmpty.hidden = plans.length > 0;
  plansList.replaceChildren(...plans.map((plan) => {
    const li = document.createElement("li");
    li.className = "plan-entry";
    li.dataset.plan = plan.id;
    const words = planText(plan);
    const text = document.createElement("span");
    text.className = "plan-text";
    text.textContent = plan.text ? `${words} · “${plan.text}”` : words;
    li.append(text);
    if (plan.in_force) {
      const now = document.createElement("span");
      now.className = "badge badge-neutral plan-now";
      now.textContent = t("plans.in_force");
      li.append(" ", now);
    }
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-quiet btn-small plan-cancel";
    cancel.textContent = t("plans.cancel");
    cancel.setAttribute("aria-label", t("plans.cancel_label", { plan: words }));
    cancel.addEventListener("click", () => {
      cancelPlan(plan).catch((err) => say(t("common.error", { message: err.message })));
    });
    li.append(cancel);
    return li;
  }));
}

async function cancelPlan(plan) {
  await api("DELETE", `${base}/plans/${encodeURIComponent(plan.id)}`);
  await load();
  say(t("plans.cancelled", { plan: planText(plan) }));
  planAdd.focus();
}

/** Plan a referral; an overlap is said with the other plan's dates, in the reader's words. */
async function addPlan(body) {
  const fields = { ...body };
  delete fields.state; // the plans resource takes the referral alone
  try {
    const answer = await api("POST", `${base}/plans`, fields);
    await load();
    say(plannedText(answer.plan));
  } catch (err) {
    if (err instanceof ApiError && err.code === "plan_overlap") {
      const starts = new Date(fields.starts);
      const ends = fields.until ? new Date(fields.until) : null;
      const other = (current.plans || []).find((p) => (!ends || new Date(p.starts) < ends)
        && (!p.until || starts < new Date(p.until)));
      if (other) {
        throw new ApiError(err.status, t("plans.overlap", { plan: planText(other) }), err.field, err.code);
      }
    }
    throw err;
  }
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
  goneUntil: page.gone_until,
  async onSubmit(body) {
    if (body.starts) {
      await addPlan(body); // a start: a plan beside the current status, which stays
      pickerCard.hidden = true;
      planAdd.focus();
      return;
    }
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
  picker.reset(t("picker.title"));
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
planAdd.addEventListener("click", () => {
  pickerCard.hidden = false;
  pickerCard.scrollIntoView({ behavior: "smooth", block: "start" });
  picker.plan(t("plans.picker_title"));
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
    // The routing core explains in English (for the curious and for support); the element
    // says so (lang="en", WCAG 3.1.2). What the page itself says is translated.
    previewWhy.textContent = preview.explanation;
    if (!decision) {
      previewAction.textContent = t("preview.no_extension");
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
