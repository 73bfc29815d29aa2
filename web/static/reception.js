// The receptionist screen: before typing, an overview of who is away now, who is back
// within the hour and who is away later today (issue 16, filterable by organisation and
// unit); then instant search (the server folds Nordic letters and forgives typos). Each
// person's availability, referral, planned absences, calendar hint and line state, kept
// live by server-sent events, and a referral set on someone's behalf (audited).

import {
  announce, api, describe, formatDay, initials, liveEvents, localDate, localTime, page, t,
  whenText,
} from "./common.js";
import { bindPicker } from "./picker.js";
import { applyPlans, bindPlanCancel } from "./reception_plans.js";

const input = document.getElementById("search");
const list = document.getElementById("results");
const rowTemplate = document.getElementById("row-template");
const count = document.getElementById("results-count");
const empty = document.getElementById("empty");
const emptyText = document.getElementById("empty-text");
const live = document.getElementById("live");
const liveText = document.getElementById("live-text");
const dialog = document.getElementById("refer-dialog");
const overviewBar = document.getElementById("overview-bar");
const orgFilter = document.getElementById("filter-org");
const unitFilter = document.getElementById("filter-unit");
const SECTIONS = ["away", "back_soon", "later"];

const rows = new Map(); // person id -> { li, person }
let sequence = 0;
let debounce = 0;
let dialogFor = null;
let dialogOpener = null; // where focus goes back when the referral dialog closes
let overviewTimer = 0;
let wasLive = null;
const said = new Map(); // person id -> the status last announced (the feed echoes our own)

function orgName(id) {
  return page.organisations[id] || id;
}

function calendarText(calendar) {
  const reason = t(`reason.${calendar.reason}`);
  const ends = new Date(calendar.ends);
  const endsToday = whenText(ends) === localTime(ends);
  if (calendar.now) {
    // A holiday that ends on Friday says Friday (issue 16), not just "until 10:00".
    if (endsToday) return t("reception.cal_now", { reason, time: localTime(ends) });
    return t("reception.cal_now_day", { reason, date: formatDay(ends), time: localTime(ends) });
  }
  const starts = new Date(calendar.starts);
  const end = localDate(ends) === localDate(starts) ? localTime(ends) : whenText(ends);
  return t("reception.cal_next", { reason, start: whenText(starts), end });
}

function applyPresence(li, presence) {
  const badge = li.querySelector(".cell-status > .badge:not(.badge-call)");
  const callBadge = li.querySelector(".badge-call");
  const statusText = li.querySelector(".status-text");
  const calendarCell = li.querySelector(".cell-calendar");
  const availableButton = li.querySelector('[data-action="available"]');
  if (!presence) {
    li.dataset.state = "unknown";
    badge.className = "badge";
    badge.querySelector(".badge-text").textContent = "—";
    return;
  }
  const described = describe(presence);
  li.dataset.state = described.state;
  badge.className = `badge badge-${described.state}`;
  badge.querySelector(".badge-text").textContent = described.badge;
  statusText.textContent = described.state === "available" ? "" : described.detail;
  statusText.hidden = described.state === "available";
  callBadge.hidden = !presence.line?.in_call;
  const name = li.querySelector(".person-name").textContent;
  applyPlans(li, name, presence.planned || [], (plan, button) => {
    askCancelPlan(li.dataset.personId, name, plan, button);
  });
  calendarCell.replaceChildren();
  if (presence.calendar) {
    const line = document.createElement("span");
    line.textContent = calendarText(presence.calendar);
    calendarCell.append(line);
    if (presence.calendar.label) {
      const label = document.createElement("span");
      label.className = "cal-label";
      label.textContent = presence.calendar.label;
      calendarCell.prepend(label);
    }
  }
  availableButton.hidden = !page.may_write || described.state === "available";
}

/** A person's status in words, as the live region says it. */
function statusWords(presence) {
  if (!presence) return "—";
  const described = describe(presence);
  return described.state === "available" ? described.badge : `${described.badge}, ${described.detail}`;
}

function fillRow(li, person) {
  li.dataset.personId = person.id;
  // Enter opens the referral dialog only for those who may set one (WCAG 4.1.2).
  if (page.may_write) li.title = t("reception.open_row", { name: person.name });
  li.querySelector(".avatar").textContent = initials(person.name);
  li.querySelector(".person-name").textContent = person.name;
  li.querySelector(".person-meta").textContent = [person.title, person.unit, orgName(person.organisation)]
    .filter(Boolean).join(" · ");
  li.querySelector(".ext-value").textContent = person.extension || "—";
  li.querySelector(".ext").hidden = !person.extension;
  // The server writes numbers in one national style (issue 16).
  li.querySelector(".number").textContent = person.national_display || "";
  const mobile = li.querySelector(".mobile");
  if (person.mobile) {
    mobile.textContent = `${t("reception.mobile")} ${person.mobile_display}`;
  } else {
    mobile.textContent = person.mobile_secret ? t("reception.mobile_secret") : t("reception.no_mobile");
    mobile.classList.add("muted");
  }
  const refer = li.querySelector('[data-action="refer"]');
  refer.hidden = !page.may_write;
  refer.addEventListener("click", () => openDialog(person.id, refer));
  li.querySelector('[data-action="available"]').addEventListener("click", () => {
    makeAvailable(person.id).catch((err) => announce(t("common.error", { message: err.message })));
  });
  applyPresence(li, person.presence);
}

function newRow(person) {
  const li = rowTemplate.content.firstElementChild.cloneNode(true);
  fillRow(li, person);
  rows.set(person.id, { li, person });
  return li;
}

/** Where focus is in the list: the person, the control (by its data-action) and the row's
 * place, so a new rendering can put it back (WCAG 2.4.3) instead of dropping it. */
function focusedSpot() {
  const active = document.activeElement;
  const li = active?.closest?.(".person");
  if (!li || !list.contains(li)) return null;
  const index = [...list.querySelectorAll(".person")].indexOf(li);
  return { id: li.dataset.personId, action: active === li ? null : active.dataset.action, index };
}

/** Back to the same control of the same person; if they left the list, to the row now in
 * their place (or the search box when the list is empty). After take_message.js has added
 * its buttons (its observer runs as a microtask). */
function restoreFocus(spot) {
  if (!spot) return;
  queueMicrotask(() => {
    const row = rows.get(spot.id);
    if (row) {
      const control = spot.action
        && row.li.querySelector(`[data-action="${spot.action}"]:not([hidden])`);
      (control || row.li).focus();
      return;
    }
    const people = list.querySelectorAll(".person");
    (people[Math.min(spot.index, people.length - 1)] || input).focus();
  });
}

function render(people, query) {
  const spot = focusedSpot();
  overviewBar.hidden = true;
  rows.clear();
  list.replaceChildren();
  for (const person of people) list.append(newRow(person));
  empty.hidden = people.length > 0;
  emptyText.textContent = query ? t("reception.none", { q: query }) : t("reception.empty");
  count.textContent = query && people.length ? t("reception.count", { count: people.length }) : "";
  if (query) announce(people.length ? count.textContent : emptyText.textContent);
  restoreFocus(spot);
}

// ---- The overview before typing (issue 16) ------------------------------------------------
/** A group's heading or note: a row of the grid with one cell across every column. */
function groupItem(className, text, heading = false) {
  const li = document.createElement("li");
  li.className = className;
  li.setAttribute("role", "row");
  const cell = document.createElement("div");
  cell.setAttribute("role", "gridcell");
  cell.setAttribute("aria-colspan", "5");
  if (heading) {
    const h3 = document.createElement("h3");
    h3.textContent = text;
    cell.append(h3);
  } else {
    li.classList.add("small", "muted");
    cell.textContent = text;
  }
  li.append(cell);
  return li;
}

function setUnits(units) {
  const chosen = unitFilter.value;
  const wanted = chosen && !units.includes(chosen) ? [chosen, ...units] : units;
  const shown = [...unitFilter.options].slice(1).map((o) => o.value);
  if (shown.join("\n") === wanted.join("\n")) return;
  unitFilter.replaceChildren(unitFilter.options[0]);
  for (const unit of wanted) unitFilter.append(new Option(unit, unit, false, unit === chosen));
}

function renderOverview(answer, spoken = false) {
  const spot = focusedSpot();
  overviewBar.hidden = false;
  rows.clear();
  list.replaceChildren();
  for (const section of SECTIONS) {
    const { total, people } = answer.sections[section];
    const head = groupItem("group-head", `${t(`overview.${section}`)} (${total})`, true);
    head.dataset.section = section;
    list.append(head);
    if (!people.length) list.append(groupItem("group-none", t("overview.nobody")));
    for (const person of people) {
      const li = newRow(person);
      li.dataset.section = section;
      const line = li.querySelector(".overview-text");
      if (section === "later") {
        const reason = t(`reason.${person.overview.reason}`);
        line.textContent = t("overview.from", { when: whenText(new Date(person.overview.starts)), reason });
        line.hidden = false;
      }
      list.append(li);
    }
    if (total > people.length) {
      list.append(groupItem("group-more", t("overview.more", { shown: people.length, total })));
    }
  }
  setUnits(answer.units);
  empty.hidden = true;
  const totals = Object.fromEntries(SECTIONS.map((s) => [s, answer.sections[s].total]));
  count.textContent = t("overview.summary", { away: totals.away, soon: totals.back_soon, later: totals.later });
  if (spoken) announce(count.textContent); // asked for (a filter): said; a live refresh is not
  restoreFocus(spot);
}

async function loadOverview(spoken = false) {
  const mine = ++sequence;
  const params = new URLSearchParams();
  if (orgFilter.value) params.set("organisation", orgFilter.value);
  if (unitFilter.value) params.set("unit", unitFilter.value);
  const answer = await api("GET", `/api/v1/overview?${params}`);
  if (mine === sequence && !input.value.trim()) renderOverview(answer, spoken);
}

/** Again shortly after a change: a burst of events (an import, a calendar sync) asks once. */
function overviewSoon() {
  if (input.value.trim()) return;
  window.clearTimeout(overviewTimer);
  overviewTimer = window.setTimeout(() => { loadOverview().catch(() => {}); }, 300);
}

orgFilter.addEventListener("change", () => {
  unitFilter.value = "";
  loadOverview(true).catch(() => {});
});
unitFilter.addEventListener("change", () => { loadOverview(true).catch(() => {}); });

async function search() {
  const query = input.value.trim();
  const mine = ++sequence;
  if (!query) {
    await loadOverview();
    return;
  }
  const answer = await api("GET", `/api/v1/people?q=${encodeURIComponent(query)}&limit=50`);
  if (mine === sequence) render(answer.people, query);
}

input.addEventListener("input", () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => { search().catch(() => {}); }, 120);
});

function flash(li) {
  li.classList.remove("flash");
  void li.offsetWidth; // restart the animation
  li.classList.add("flash");
}

/** A new status for someone: the row changes in place, and the live region says so for
 * people on the screen (WCAG 4.1.3), once: the feed's echo of our own change is not
 * said again. `mine` marks the reader's own change ("Saved for …"). */
function update(personId, presence, mine = false) {
  overviewSoon(); // someone may join, leave or move between the overview's groups
  const row = rows.get(personId);
  if (!row) return;
  row.person.presence = presence;
  applyPresence(row.li, presence);
  flash(row.li);
  const words = statusWords(presence);
  if (said.get(personId) === words && !mine) return;
  said.set(personId, words);
  const values = { name: row.person.name, status: words };
  announce(t(mine ? "a11y.saved_for" : "a11y.status_of", values));
}

// ---- Setting a referral on someone's behalf ---------------------------------------------
const picker = bindPicker(document.getElementById("refer-picker"), {
  async onSubmit(body) {
    const id = dialogFor;
    const answer = await api("PUT", `/api/v1/people/${encodeURIComponent(id)}/availability`, body);
    update(id, answer, true);
    dialog.close();
  },
  onCancel() { dialog.close(); },
});

/** The referral dialog for a person; `opener` (the button, or the row for Enter) gets the
 * focus back when it closes (WCAG 2.4.3). */
function openDialog(personId, opener) {
  const row = rows.get(personId);
  if (!row || !page.may_write) return;
  dialogFor = personId;
  dialogOpener = { id: personId, action: opener === row.li ? null : opener.dataset.action, index: 0 };
  picker.reset(t("picker.title_other", { name: row.person.name }));
  dialog.showModal();
  picker.focusFirst();
}

dialog.addEventListener("close", () => {
  // The list may have been drawn anew meanwhile: the same control of the same person.
  if (dialogOpener) {
    dialogOpener.index = [...list.querySelectorAll(".person")]
      .indexOf(rows.get(dialogOpener.id)?.li);
    restoreFocus({ ...dialogOpener, index: Math.max(0, dialogOpener.index) });
  }
  dialogOpener = null;
});
dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());

/** "Gör tillgänglig": its button goes away, so focus moves to the row's referral button
 * (or the row), never to the page (WCAG 2.4.3); the live region says it is done. */
async function makeAvailable(personId) {
  const answer = await api("DELETE", `/api/v1/people/${encodeURIComponent(personId)}/availability`);
  update(personId, answer, true);
  const row = rows.get(personId);
  if (row) {
    const refer = row.li.querySelector('[data-action="refer"]:not([hidden])');
    (refer || row.li).focus();
  }
}

// ---- Cancelling a planned referral on someone's behalf (issue 16) -----------------------
/** Gone from the row at once; the live feed's echo then finds the same plans and leaves
 * the row (and the focus on it) alone. */
const askCancelPlan = bindPlanCancel({
  rowOf: (personId) => rows.get(personId),
  onCancelled(personId, planId) {
    const row = rows.get(personId);
    if (!row?.person.presence) return;
    const presence = row.person.presence;
    presence.planned = (presence.planned || []).filter((plan) => plan.id !== planId);
    applyPresence(row.li, presence);
    flash(row.li);
  },
});

// ---- Keyboard: ↓ from the search into the list, ↑ ↓ between people, Enter opens --------
function sibling(li, step) {
  let next = step > 0 ? li.nextElementSibling : li.previousElementSibling;
  while (next && !next.matches(".person")) {
    next = step > 0 ? next.nextElementSibling : next.previousElementSibling;
  }
  return next;
}

input.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown") {
    const first = list.querySelector(".person");
    if (first) {
      event.preventDefault();
      first.focus();
    }
  } else if (event.key === "Enter") {
    window.clearTimeout(debounce);
    search().catch(() => {});
  }
});

list.addEventListener("keydown", (event) => {
  const li = event.target.closest(".person");
  if (!li || event.target !== li) return;
  if (event.key === "ArrowDown" && sibling(li, 1)) {
    event.preventDefault();
    sibling(li, 1).focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    (sibling(li, -1) || input).focus();
  } else if (event.key === "Enter") {
    event.preventDefault();
    openDialog(li.dataset.personId, li);
  } else if (event.key === "Escape") {
    input.focus();
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "/" && document.activeElement !== input && !dialog.open
      && !(event.target instanceof HTMLInputElement) && !(event.target instanceof HTMLSelectElement)) {
    event.preventDefault();
    input.focus();
    input.select();
  }
});

// ---- Live feed --------------------------------------------------------------------------
function setLive(connected) {
  live.dataset.state = connected ? "live" : "connecting";
  liveText.textContent = connected ? t("reception.live") : t("reception.reconnecting");
  // Said when it changes after the first connection: lost, and back again (WCAG 4.1.3).
  if (wasLive !== null && wasLive !== connected) {
    announce(t(connected ? "a11y.live_back" : "a11y.live_lost"));
  }
  if (connected || wasLive !== null) wasLive = connected;
}

liveEvents(
  {
    person(message) { update(message.person_id, message.presence); },
    removed() { search().catch(() => {}); },
    directory() { search().catch(() => {}); },
    reload() { search().catch(() => {}); },
  },
  setLive,
);

// Keep "back at 13:00" and calendar hints honest as the day moves on, and the overview.
window.setInterval(() => {
  for (const { li, person } of rows.values()) applyPresence(li, person.presence);
  overviewSoon();
}, 60000);

search().catch(() => {});
