// One recording the person makes for callers, the greeting (R11, R12) or the name clip
// (issue 13: their name in their own voice, in place of the synthesized one): what is
// stored (a player, its length and date; delete after a confirm step), upload a WAV, or
// record one here (the microphone, a visible timer that stops at the limit, a preview to
// save or discard). The server checks every WAV and its refusal is shown word for word.
// _voicemail.html has one box of each; voicemail.js binds them with their own texts.

import { ApiError, api, page, refusalOf, t } from "./common.js";
import { TARGET_RATE, recordingToWav } from "./wav.js";

export function clock(ms) {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export const whenFormat = new Intl.DateTimeFormat(page.locale, {
  timeZone: page.zone, weekday: "short", day: "numeric", month: "short",
  hour: "2-digit", minute: "2-digit",
});

function bytesText(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
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
    throw refusalOf(response, json); // in the reader's words, not the server's (issue 16)
  }
  return json;
}

/** Turn a row's actions into "Delete? [Yes, delete] [Cancel]" until one is chosen; the
 *  actions come back afterwards (the row itself may be gone by then). */
export function confirmStep(slot, question, onYes, onError) {
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
    slot.querySelector('[data-action="delete"]')?.focus();
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

/**
 * Bind one recording box. `url`: its API resource (GET/PUT/DELETE); `key`: the answer's
 * field for it ("greeting", "name_clip"); `texts`: what differs between the two
 * ({ saved, deleted, deleteConfirm }). Returns { show(stored) } for the inbox's listing.
 */
export function bindRecording(box, { url, key, maxBytes, texts }) {
  const part = (name) => document.getElementById(`${box.id}-${name}`);
  const maxMs = Number(box.dataset.maxSeconds) * 1000;
  const status = part("status");
  const none = part("none");
  const has = part("has");
  const player = part("audio");
  const meta = part("meta");
  const upload = part("upload");
  const recordButton = part("record");
  const recordLabel = part("record-label");
  const timer = part("timer");
  const preview = part("preview");
  const previewAudio = part("preview-audio");

  let recording = null; // { stream, context, chunks, tick, processor }
  let pending = null; // the recorded WAV Blob waiting for "save"
  let previewUrl = "";

  function say(text, error = false) {
    status.textContent = text;
    status.classList.toggle("form-error", error);
  }
  const failed = (err) => say(t("common.error", { message: err.message }), true);

  // ---- what is stored ----------------------------------------------------------------
  function show(stored) {
    box.dataset.stored = stored ? "yes" : "no";
    none.hidden = Boolean(stored);
    has.hidden = !stored;
    if (!stored) {
      player.removeAttribute("src");
      return;
    }
    // A new query per version: the same URL would replay what the element cached.
    player.src = `${stored.audio_url}?v=${encodeURIComponent(stored.updated_at)}`;
    meta.textContent = t("vm.recording_meta", {
      length: clock(stored.duration_ms), when: whenFormat.format(new Date(stored.updated_at)),
    });
  }

  async function save(blob) {
    say(t("vm.saving"));
    try {
      const answer = await putWav(url, blob);
      show(answer[key]);
      say(texts.saved);
      return true;
    } catch (err) {
      // 413/415/422: said in the reader's language from the server's code (issue 16).
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
    await save(file);
  });

  const deleteSlot = part("delete").parentElement;
  deleteSlot.addEventListener("click", (event) => {
    if (event.target.closest("[data-action]")?.dataset.action !== "delete") return;
    confirmStep(deleteSlot, texts.deleteConfirm, async () => {
      try {
        await api("DELETE", url);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      show(null);
      say(texts.deleted);
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
      if (elapsed >= maxMs) stopRecording().catch(failed);
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
    pending = await recordingToWav(chunks, rate, maxMs / 1000);
    previewUrl = URL.createObjectURL(pending);
    previewAudio.src = previewUrl;
    preview.hidden = false;
    box.dataset.recorded = String(pending.size);
    say(t("vm.recorded", { length: clock(((pending.size - 44) / 2 / TARGET_RATE) * 1000) }));
    part("preview-save").focus();
  }

  recordButton.addEventListener("click", () => {
    (recording ? stopRecording() : startRecording()).catch(failed);
  });

  part("preview-save").addEventListener("click", async () => {
    if (pending && (await save(pending))) clearPreview();
  });
  part("preview-discard").addEventListener("click", () => {
    clearPreview();
    say("");
    recordButton.focus();
  });

  return { show, say };
}
