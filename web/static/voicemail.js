// The voicemail section of the employee's page (issue 5; R11, R12 for the greeting):
// the greeting (upload a WAV, or record one here; play it back; delete it) and the inbox
// (voicemail: play, which marks it heard, download, delete after a confirm step; and the
// messages reception took). Everything goes through /api/v1/people/{id}/...; the server
// checks every WAV and its refusal is shown word for word.

import { ApiError, api, formatPhone, page, t } from "./common.js";
import { recordingToWav } from "./wav.js";

const section = document.getElementById("voicemail");

function bytesText(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function clock(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

const whenFormat = new Intl.DateTimeFormat(page.locale, {
  timeZone: page.zone, weekday: "short", day: "numeric", month: "short",
  hour: "2-digit", minute: "2-digit",
});

/** The caller as the person reads it: a national number, "Dolt nummer" (R18), or unknown. */
function callerText(caller) {
  if (caller === "secret") return t("vm.caller_secret");
  if (!caller) return t("vm.caller_unknown");
  if (caller.startsWith("+46") && !caller.startsWith("+467")) return formatPhone(`0${caller.slice(3)}`);
  return formatPhone(caller);
}

/** A WAV upload: the body is the file itself (audio/wav), the CSRF token in its header. */
async function putWav(url, blob) {
  const response = await fetch(url, {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": "audio/wav", "X-CSRF-Token": page.csrf || "", Accept: "application/json" },
    body: blob,
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error?.message || response.statusText);
  }
  return json;
}

/** Turn a row's actions into "Delete? [Yes, delete] [Cancel]" until one is chosen; the
 *  actions come back afterwards (the row itself may be gone by then). */
function confirmStep(slot, question, onYes, onError) {
  const before = [...slot.childNodes];
  const text = document.createElement("span");
  text.className = "small vm-confirm-text";
  text.textContent = question;
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "btn btn-danger btn-small";
  yes.dataset.action = "confirm-delete";
  yes.textContent = t("vm.delete_yes");
  const no = document.createElement("button");
  no.type = "button";
  no.className = "btn btn-quiet btn-small";
  no.dataset.action = "cancel-delete";
  no.textContent = t("vm.delete_no");
  no.addEventListener("click", () => {
    slot.replaceChildren(...before);
    slot.querySelector('[data-action="delete"], #vm-greeting-delete')?.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await onYes();
      slot.replaceChildren(...before);
    } catch (err) {
      slot.replaceChildren(...before);
      onError(err);
    }
  });
  slot.replaceChildren(text, yes, no);
  no.focus();
}

function bindVoicemail(root) {
  const base = `/api/v1/people/${encodeURIComponent(root.dataset.person)}`;
  const maxBytes = Number(root.dataset.maxBytes);
  const maxMs = Number(root.dataset.maxSeconds) * 1000;
  const status = document.getElementById("vm-greeting-status");
  const none = document.getElementById("vm-greeting-none");
  const has = document.getElementById("vm-greeting-has");
  const player = document.getElementById("vm-greeting-audio");
  const meta = document.getElementById("vm-greeting-meta");
  const upload = document.getElementById("vm-upload");
  const recordButton = document.getElementById("vm-record");
  const recordLabel = document.getElementById("vm-record-label");
  const timer = document.getElementById("vm-timer");
  const preview = document.getElementById("vm-preview");
  const previewAudio = document.getElementById("vm-preview-audio");
  const list = document.getElementById("vm-list");
  const empty = document.getElementById("vm-inbox-empty");
  const rowTemplate = document.getElementById("vm-row-template");
  const unheard = document.getElementById("vm-unheard");
  const unheardText = document.getElementById("vm-unheard-text");
  const taken = document.getElementById("vm-taken");
  const takenEmpty = document.getElementById("vm-taken-empty");

  let recording = null; // { stream, context, chunks, started, tick }
  let pending = null; // the recorded WAV Blob waiting for "save"
  let previewUrl = "";

  function say(text, error = false) {
    status.textContent = text;
    status.classList.toggle("form-error", error);
  }

  // ---- the greeting --------------------------------------------------------------------
  function showGreeting(greeting) {
    root.dataset.greeting = greeting ? "yes" : "no";
    none.hidden = Boolean(greeting);
    has.hidden = !greeting;
    if (!greeting) {
      player.removeAttribute("src");
      return;
    }
    // A new query per version: the same URL would replay what the element cached.
    player.src = `${greeting.audio_url}?v=${encodeURIComponent(greeting.updated_at)}`;
    meta.textContent = t("vm.greeting_meta", {
      length: clock(greeting.duration_ms), when: whenFormat.format(new Date(greeting.updated_at)),
    });
  }

  async function saveGreeting(blob) {
    say(t("vm.saving"));
    try {
      const answer = await putWav(`${base}/greeting`, blob);
      showGreeting(answer.greeting);
      say(t("vm.greeting_saved"));
      return true;
    } catch (err) {
      // 413/415/422: the server's sentence says what to do ("the WAV is stereo; ...").
      say(t("vm.refused", { message: err.message }), true);
      return false;
    }
  }

  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    upload.value = "";
    if (!file) return;
    if (file.size > maxBytes) {
      say(t("vm.too_big", { size: bytesText(file.size), max: bytesText(maxBytes) }), true);
      return;
    }
    await saveGreeting(file);
  });

  const greetingSlot = document.getElementById("vm-greeting-delete").parentElement;
  const failed = (err) => say(t("common.error", { message: err.message }), true);
  greetingSlot.addEventListener("click", (event) => {
    if (event.target.id !== "vm-greeting-delete") return;
    confirmStep(greetingSlot, t("vm.greeting_delete_confirm"), async () => {
      try {
        await api("DELETE", `${base}/greeting`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      showGreeting(null);
      say(t("vm.greeting_deleted"));
      recordButton.focus();
    }, failed);
  });

  // ---- recording in the browser ----------------------------------------------------------
  function setRecording(on) {
    recordButton.setAttribute("aria-pressed", String(on));
    recordButton.classList.toggle("is-recording", on);
    recordLabel.textContent = on ? t("vm.stop") : t("vm.record");
    timer.hidden = !on;
  }

  function clearPreview() {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = "";
    pending = null;
    previewAudio.removeAttribute("src");
    preview.hidden = true;
  }

  async function startRecording() {
    clearPreview();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (err) {
      say(t("vm.no_microphone", { message: err.message || err.name }), true);
      return;
    }
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    // ScriptProcessor: deprecated but everywhere, and needs no worklet file. Two inputs,
    // downmixed by us; its output goes through a silent gain (it only runs when connected).
    const processor = context.createScriptProcessor(4096, 2, 1);
    const silent = context.createGain();
    silent.gain.value = 0;
    const chunks = [];
    processor.addEventListener("audioprocess", (event) => {
      const input = event.inputBuffer;
      const left = input.getChannelData(0);
      const right = input.numberOfChannels > 1 ? input.getChannelData(1) : left;
      const mono = new Float32Array(left.length);
      for (let i = 0; i < left.length; i += 1) mono[i] = (left[i] + right[i]) / 2;
      chunks.push(mono);
    });
    source.connect(processor);
    processor.connect(silent);
    silent.connect(context.destination);
    const started = performance.now();
    const tick = window.setInterval(() => {
      const elapsed = performance.now() - started;
      timer.textContent = `${clock(Math.min(elapsed, maxMs))} / ${clock(maxMs)}`;
      if (elapsed >= maxMs) stopRecording().catch(() => {});
    }, 200);
    timer.textContent = `0:00 / ${clock(maxMs)}`;
    recording = { stream, context, chunks, tick, processor };
    setRecording(true);
    say(t("vm.recording"));
  }

  async function stopRecording() {
    if (!recording) return;
    const { stream, context, chunks, tick, processor } = recording;
    recording = null;
    window.clearInterval(tick);
    processor.disconnect();
    for (const track of stream.getTracks()) track.stop();
    const rate = context.sampleRate;
    await context.close();
    setRecording(false);
    if (!chunks.length) {
      say(t("vm.nothing_recorded"), true);
      return;
    }
    pending = await recordingToWav(chunks, rate);
    previewUrl = URL.createObjectURL(pending);
    previewAudio.src = previewUrl;
    preview.hidden = false;
    root.dataset.recorded = String(pending.size);
    say(t("vm.recorded", { length: clock(((pending.size - 44) / 2 / 16000) * 1000) }));
    document.getElementById("vm-preview-save").focus();
  }

  recordButton.addEventListener("click", () => {
    (recording ? stopRecording() : startRecording()).catch((err) => {
      say(t("common.error", { message: err.message }), true);
    });
  });

  document.getElementById("vm-preview-save").addEventListener("click", async () => {
    if (pending && (await saveGreeting(pending))) clearPreview();
  });
  document.getElementById("vm-preview-discard").addEventListener("click", () => {
    clearPreview();
    say("");
    recordButton.focus();
  });

  // ---- the inbox -----------------------------------------------------------------------
  function markRow(li, heard) {
    li.dataset.heard = String(heard);
    const badge = li.querySelector(".vm-heard");
    badge.className = `badge vm-heard ${heard ? "badge-neutral" : "badge-call"}`;
    badge.querySelector(".vm-heard-text").textContent = heard ? t("vm.heard") : t("vm.unheard");
  }

  function countUnheard() {
    const count = list.querySelectorAll('.vm-item[data-heard="false"]').length;
    unheard.hidden = count === 0;
    unheard.className = "badge badge-call";
    unheardText.textContent = t("vm.unheard_count", { count });
    empty.hidden = list.children.length > 0;
  }

  async function play(li, message) {
    let audio = li.querySelector("audio");
    if (!audio) {
      audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "auto";
      audio.src = message.audio_url;
      audio.addEventListener("play", async () => {
        if (li.dataset.heard === "true") return;
        const answer = await api("POST", `${message.audio_url}/heard`);
        markRow(li, answer.heard);
        countUnheard();
      });
      li.append(audio);
    }
    try {
      await audio.play();
    } catch {
      audio.focus(); // autoplay refused or no audio output: the controls are there
    }
  }

  function messageRow(message) {
    const li = rowTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.messageId = message.message_id;
    li.querySelector(".vm-caller").textContent = callerText(message.caller);
    li.querySelector(".vm-when").textContent = whenFormat.format(new Date(message.received_at));
    li.querySelector(".vm-length").textContent = clock(message.duration_ms);
    const download = li.querySelector('[data-action="download"]');
    download.href = message.audio_url;
    markRow(li, message.heard);
    const slot = li.querySelector(".vm-item-actions");
    slot.addEventListener("click", (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action === "play") {
        play(li, message).catch((err) => say(t("common.error", { message: err.message }), true));
      } else if (action === "delete") {
        confirmStep(slot, t("vm.delete_confirm"), async () => {
          await api("DELETE", message.audio_url);
          const next = li.nextElementSibling || li.previousElementSibling;
          li.remove();
          countUnheard();
          (next?.querySelector('[data-action="play"]') || recordButton).focus();
        }, failed);
      }
    });
    return li;
  }

  function takenRow(message) {
    const li = document.createElement("li");
    li.className = "vm-item vm-taken-item";
    const head = document.createElement("div");
    head.className = "vm-item-main";
    const badge = document.createElement("span");
    badge.className = `badge ${message.call_back ? "badge-open" : "badge-neutral"}`;
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.setAttribute("aria-hidden", "true");
    badge.append(dot, message.call_back ? t("vm.call_back") : t("vm.no_call_back"));
    const name = document.createElement("span");
    name.className = "vm-caller";
    name.textContent = message.caller_name;
    const number = document.createElement("span");
    number.className = "small mono";
    number.textContent = message.caller_number ? callerText(message.caller_number) : "";
    const when = document.createElement("span");
    when.className = "small muted vm-when";
    when.textContent = t("vm.taken_meta", {
      when: whenFormat.format(new Date(message.taken_at)), by: message.taken_by,
    });
    head.append(badge, name, number, when);
    const text = document.createElement("p");
    text.className = "vm-text";
    text.textContent = message.text;
    li.append(head, text);
    return li;
  }

  async function load() {
    const [inbox, messages] = await Promise.all([
      api("GET", `${base}/voicemail`), api("GET", `${base}/messages`),
    ]);
    showGreeting(inbox.greeting);
    list.replaceChildren(...inbox.messages.map(messageRow));
    countUnheard();
    taken.replaceChildren(...messages.messages.map(takenRow));
    takenEmpty.hidden = messages.messages.length > 0;
    root.dataset.loaded = "true";
  }

  load().catch((err) => say(t("common.error", { message: err.message }), true));
  // A message left, heard or deleted elsewhere (a call, the phone, another tab): the list
  // follows. A change this page made itself (the counts already agree) reloads nothing,
  // so a message being played is never interrupted.
  document.addEventListener("switchboard:voicemail", (event) => {
    const { person_id: personId, new: fresh, old } = event.detail;
    if (personId !== root.dataset.person) return;
    const shown = list.querySelectorAll(".vm-item").length;
    const shownNew = list.querySelectorAll('.vm-item[data-heard="false"]').length;
    if (shown === fresh + old && shownNew === fresh) return;
    load().catch((err) => say(t("common.error", { message: err.message }), true));
  });
}

if (section) bindVoicemail(section);
