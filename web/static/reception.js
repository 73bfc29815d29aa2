// The receptionist screen: instant search (the server folds Nordic letters and forgives
// typos), each person's availability, referral, calendar hint and line state, kept live by
// server-sent events, and a referral set on someone's behalf (audited by the server).

import {
  api, describe, formatPhone, initials, liveEvents, localTime, page, t,
} from "./common.js";
import { bindPicker } from "./picker.js";

const input = document.getElementById("search");
const list = document.getElementById("results");
const rowTemplate = document.getElementById("row-template");
const count = document.getElementById("results-count");
const empty = document.getElementById("empty");
const emptyText = document.getElementById("empty-text");
const live = document.getElementById("live");
const liveText = document.getElementById("live-text");
const dialog = document.getElementById("refer-dialog");

const rows = new Map(); // person id -> { li, person }
let sequence = 0;
let debounce = 0;
let dialogFor = null;

function orgName(id) {
  return page.organisations[id] || id;
}

function calendarText(calendar) {
  const reason = t(`reason.${calendar.reason}`);
  const ends = new Date(calendar.ends);
  if (calendar.now) return t("reception.cal_now", { reason, time: localTime(ends) });
  const starts = new Date(calendar.starts);
  return t("reception.cal_next", { reason, start: localTime(starts), end: localTime(ends) });
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

function fillRow(li, person) {
  li.dataset.personId = person.id;
  li.title = t("reception.open_row", { name: person.name });
  li.querySelector(".avatar").textContent = initials(person.name);
  li.querySelector(".person-name").textContent = person.name;
  li.querySelector(".person-meta").textContent = [person.title, person.unit, orgName(person.organisation)]
    .filter(Boolean).join(" · ");
  li.querySelector(".ext-value").textContent = person.extension || "—";
  li.querySelector(".ext").hidden = !person.extension;
  li.querySelector(".number").textContent = formatPhone(person.national || "");
  const mobile = li.querySelector(".mobile");
  if (person.mobile) {
    mobile.textContent = `${t("reception.mobile")} ${formatPhone(person.mobile)}`;
  } else {
    mobile.textContent = person.mobile_secret ? t("reception.mobile_secret") : t("reception.no_mobile");
    mobile.classList.add("muted");
  }
  const refer = li.querySelector('[data-action="refer"]');
  refer.hidden = !page.may_write;
  refer.addEventListener("click", () => openDialog(person.id));
  li.querySelector('[data-action="available"]').addEventListener("click", () => makeAvailable(person.id));
  applyPresence(li, person.presence);
}

function render(people, query) {
  rows.clear();
  list.replaceChildren();
  for (const person of people) {
    const li = rowTemplate.content.firstElementChild.cloneNode(true);
    fillRow(li, person);
    rows.set(person.id, { li, person });
    list.append(li);
  }
  empty.hidden = people.length > 0;
  emptyText.textContent = query ? t("reception.none", { q: query }) : t("reception.empty");
  count.textContent = query && people.length ? t("reception.count", { count: people.length }) : "";
}

async function search() {
  const query = input.value.trim();
  const mine = ++sequence;
  if (!query) {
    render([], "");
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

function update(personId, presence) {
  const row = rows.get(personId);
  if (!row) return;
  row.person.presence = presence;
  applyPresence(row.li, presence);
  flash(row.li);
}

// ---- Setting a referral on someone's behalf ---------------------------------------------
const picker = bindPicker(document.getElementById("refer-picker"), {
  async onSubmit(body) {
    const id = dialogFor;
    const answer = await api("PUT", `/api/v1/people/${encodeURIComponent(id)}/availability`, body);
    update(id, answer);
    dialog.close();
  },
  onCancel() { dialog.close(); },
});

function openDialog(personId) {
  const row = rows.get(personId);
  if (!row || !page.may_write) return;
  dialogFor = personId;
  picker.reset(t("picker.title_other", { name: row.person.name }));
  dialog.showModal();
  picker.focusFirst();
}

dialog.addEventListener("close", () => {
  const row = rows.get(dialogFor);
  if (row) row.li.focus();
});
dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());

async function makeAvailable(personId) {
  const answer = await api("DELETE", `/api/v1/people/${encodeURIComponent(personId)}/availability`);
  update(personId, answer);
}

// ---- Keyboard: ↓ from the search into the list, ↑ ↓ between people, Enter opens --------
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
  if (event.key === "ArrowDown" && li.nextElementSibling) {
    event.preventDefault();
    li.nextElementSibling.focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    (li.previousElementSibling || input).focus();
  } else if (event.key === "Enter") {
    event.preventDefault();
    openDialog(li.dataset.personId);
  } else if (event.key === "Escape") {
    input.focus();
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "/" && document.activeElement !== input && !dialog.open
      && !(event.target instanceof HTMLInputElement)) {
    event.preventDefault();
    input.focus();
    input.select();
  }
});

// ---- Live feed --------------------------------------------------------------------------
function setLive(connected) {
  live.dataset.state = connected ? "live" : "connecting";
  liveText.textContent = connected ? t("reception.live") : t("reception.reconnecting");
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

// Keep "back at 13:00" and calendar hints honest as the day moves on.
window.setInterval(() => {
  for (const { li, person } of rows.values()) applyPresence(li, person.presence);
}, 60000);

if (input.value) search().catch(() => {});
