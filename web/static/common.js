// Shared by every page: the page's data, translations, the server's clock, time in the
// organisation's zone, the JSON API with the CSRF token, and how a status is described.

export const page = JSON.parse(document.getElementById("page-data").textContent);

export function t(key, values) {
  let text = page.strings[key] ?? key;
  if (values) {
    for (const [name, value] of Object.entries(values)) {
      text = text.replaceAll(`{${name}}`, String(value));
    }
  }
  return text;
}

// The server may run at a pretended time (`serve --now`): every "now" is the server's.
const skew = Date.parse(page.now) - Date.now();
export function serverNow() {
  return new Date(Date.now() + skew);
}

const zoneParts = new Intl.DateTimeFormat("en-CA", {
  timeZone: page.zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit",
});

function parts(date) {
  const out = {};
  for (const p of zoneParts.formatToParts(date)) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return out;
}

const pad = (n) => String(n).padStart(2, "0");

/** "YYYY-MM-DD" of an instant, in the organisation's zone. */
export function localDate(date) {
  const p = parts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** "HH:MM" of an instant, in the organisation's zone. */
export function localTime(date) {
  const p = parts(date);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** The instant at wall-clock `dateText` `timeText` in the organisation's zone. */
export function zonedInstant(dateText, timeText) {
  const [y, m, d] = dateText.split("-").map(Number);
  const [hh, mm] = timeText.split(":").map(Number);
  const wanted = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wanted;
  for (let i = 0; i < 3; i += 1) {
    const p = parts(new Date(guess));
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    if (shown === wanted) break;
    guess += wanted - shown;
  }
  return new Date(guess);
}

export function addMinutes(date, minutes) {
  return new Date(date.getTime() + minutes * 60000);
}

const dayFormat = new Intl.DateTimeFormat(page.locale, {
  timeZone: page.zone, weekday: "long", day: "numeric", month: "long",
});

export function formatDay(date) {
  return dayFormat.format(date);
}

/** "back at 13:00" / "back tomorrow at 08:00" / "back Monday 1 December" (R10 wording). */
export function backText(untilText) {
  const until = new Date(untilText);
  const now = serverNow();
  const day = localDate(until);
  const time = localTime(until);
  if (day <= localDate(now)) return t("back.today", { time });
  if (time === "00:00") return t("back.day", { date: formatDay(until) });
  if (day === localDate(addMinutes(now, 24 * 60))) return t("back.tomorrow", { time });
  return t("back.day_time", { date: formatDay(until), time });
}

/** "14:00" today, "fredag 27 november 10:00" on any other day (issue 16: never a time
 * without its date when the day is not today). */
export function whenText(date) {
  const time = localTime(date);
  if (localDate(date) === localDate(serverNow())) return time;
  return `${formatDay(date)} ${time}`;
}

const dayMonth = new Intl.DateTimeFormat(page.locale, {
  timeZone: page.zone, day: "numeric", month: "long",
});

/** A planned referral's dates in words, in the organisation's zone (issue 16): "Semester
 * 21–28 december, tillbaka måndag 29 december 08:00"; one day: "Möte måndag 21 december
 * 10:00–11:00" ("Möte från 14:00, tillbaka 15:30" today); open-ended: "Semester från …".
 * A return in the morning is no day away: the last day is the one before. */
export function planText(plan) {
  const reason = t(`reason.${plan.reason}`);
  const start = new Date(plan.starts);
  if (!plan.until) return t("plans.open", { reason, start: whenText(start) });
  const until = new Date(plan.until);
  if (localDate(start) === localDate(until)) {
    if (localDate(start) === localDate(serverNow())) {
      return t("plans.today", { reason, start: localTime(start), back: backText(plan.until) });
    }
    return t("plans.day", {
      reason, day: formatDay(start), from: localTime(start), to: localTime(until),
    });
  }
  let last = localTime(until) <= "12:00" ? addMinutes(until, -24 * 60) : until;
  if (localDate(last) < localDate(start)) last = start;
  const days = localDate(last) === localDate(start)
    ? dayMonth.format(start) : dayMonth.formatRange(start, last);
  return t("plans.range", { reason, days, back: backText(plan.until) });
}

/** A referral planned in advance, as the reception's row and the notices say it. */
export function plannedText(planned) {
  return t("planned.line", { plan: planText(planned) });
}

/** How a presence reads: state (for colour), badge word and a sentence. Never colour alone. */
export function describe(presence) {
  const referral = presence.referral;
  if (!referral) {
    return { state: "available", badge: t("status.available"), detail: t("status.available_detail") };
  }
  const pieces = [t(`reason.${referral.reason}`)];
  if (referral.until) pieces.push(backText(referral.until));
  let detail = pieces.join(", ");
  if (referral.text) detail += ` · “${referral.text}”`;
  if (referral.kind === "open") {
    return { state: "open", badge: t("status.open"), detail };
  }
  return { state: presence.available ? "available" : "away", badge: t("status.away"), detail };
}

export class ApiError extends Error {
  constructor(status, message, field = null, code = null, params = null) {
    super(message);
    this.status = status;
    this.field = field; // the public name of the refused body field or parameter
    this.code = code;
    this.params = params || {};
  }
}

/** A refusal in the reader's words (issue 16): the server's `code` looked up as
 * `error.<code>` with its `params`, never the server's English `message`; a refusal
 * without a code we know reads as a translated generic sentence. */
export function refusalText(error, status) {
  const code = error?.code;
  if (code === "secret_number" && page.strings[`r18.field.${error.field}`]) {
    // R18 (issue 17): the server names the field; the page says which in the reader's words.
    return t("r18.secret_in_text", { field: t(`r18.field.${error.field}`) });
  }
  if (code && page.strings[`error.${code}`]) return t(`error.${code}`, localParams(error.params));
  return t("error.generic", { status: status ?? "—" });
}

const numberFormat = new Intl.NumberFormat(page.locale, { maximumFractionDigits: 2 });

/** A refusal's parameters as the reader writes them: "7,9 s" in Swedish, "7.9 s" in English. */
function localParams(params) {
  const out = {};
  for (const [name, value] of Object.entries(params || {})) {
    out[name] = typeof value === "number" ? numberFormat.format(value) : value;
  }
  return out;
}

/** The ApiError of a failed answer, its message already in the reader's language. */
export function refusalOf(response, json) {
  const error = json?.error || {};
  return new ApiError(
    response.status, refusalText(error, response.status), error.field ?? null,
    error.code ?? null, error.params ?? null,
  );
}

/** The session is over (an answer was 401). A page with the session dialog says so there,
 * with the page and what was typed left as they are (WCAG 2.2.5); any other page goes to
 * the sign-in, which brings the reader back here. */
export function sessionEnded() {
  const event = new CustomEvent("switchboard:session-ended", { cancelable: true });
  if (document.dispatchEvent(event)) {
    window.location.assign(`/signin?next=${encodeURIComponent(window.location.pathname)}`);
  }
}

/** The JSON API, as this browser's session (the CSRF token rides on every change). */
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = page.csrf || "";
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok) {
    if (response.status === 401) sessionEnded();
    throw refusalOf(response, json);
  }
  return json;
}

/** Say `message` on a field (WCAG 3.3.1): in its error element, which every input of the
 * field names in `aria-describedby`, and mark the inputs `aria-invalid`. */
export function markField(inputs, errorElement, message) {
  errorElement.textContent = message;
  errorElement.hidden = false;
  for (const input of inputs) {
    input.setAttribute("aria-invalid", "true");
    const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (!ids.includes(errorElement.id)) ids.push(errorElement.id);
    input.setAttribute("aria-describedby", ids.join(" "));
  }
}

/** Undo `markField`: the error element empty and hidden, the inputs valid again. */
export function clearField(inputs, errorElement) {
  errorElement.textContent = "";
  errorElement.hidden = true;
  for (const input of inputs) {
    input.removeAttribute("aria-invalid");
    const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/)
      .filter((id) => id && id !== errorElement.id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

// ---- The page's one polite live region (WCAG 4.1.3; base.html #announcer) -------------
const announcer = document.getElementById("announcer");
let pending = [];
let announceTimer = 0;

/** Say `text` to screen readers without moving focus. Messages within a moment are said
 * together; the region is emptied first, so the same words twice are said twice. */
export function announce(text) {
  if (!announcer || !text) return;
  pending.push(text);
  window.clearTimeout(announceTimer);
  announcer.textContent = "";
  announceTimer = window.setTimeout(() => {
    // Each message its own sentence, so two run together are still heard as two.
    announcer.textContent = pending.map((m) => (/[.!?…]$/.test(m) ? m : `${m}.`)).join(" ");
    pending = [];
  }, 150);
}

export function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

/** The live feed (server-sent events); `onState(true|false)` tells whether it is connected. */
export function liveEvents(handlers, onState) {
  const source = new EventSource("/api/v1/events");
  source.addEventListener("open", () => onState(true));
  source.addEventListener("error", () => onState(false));
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  }
  return source;
}

function wireSignout() {
  const form = document.getElementById("signout-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/signout");
    } finally {
      window.location.assign("/signin");
    }
  });
}

wireSignout();
