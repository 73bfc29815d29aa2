// The voicemail section of the employee's page (issue 5; R11, R12 for the greeting):
// the greeting and the name clip (issue 13), each a box of recording.js (upload a WAV, or
// record one here; play it back; delete it), and the inbox (voicemail: play, which marks
// it heard, download, delete after a confirm step; and the messages reception took).
// Everything goes through /api/v1/people/{id}/...; the server checks every WAV and its
// refusal is shown word for word.

import { api, t } from "./common.js";
import { bindRecording, clock, confirmStep, whenFormat } from "./recording.js";

const section = document.getElementById("voicemail");

/** The caller as the person reads it: the number in the server's one national style
 * (issue 16), "Dolt nummer" (R18), or unknown. */
function callerText(caller, display) {
  if (caller === "secret") return t("vm.caller_secret");
  if (!caller) return t("vm.caller_unknown");
  return display || caller;
}

function bindVoicemail(root) {
  const base = `/api/v1/people/${encodeURIComponent(root.dataset.person)}`;
  const maxBytes = Number(root.dataset.maxBytes);
  const list = document.getElementById("vm-list");
  const empty = document.getElementById("vm-inbox-empty");
  const rowTemplate = document.getElementById("vm-row-template");
  const unheard = document.getElementById("vm-unheard");
  const unheardText = document.getElementById("vm-unheard-text");
  const taken = document.getElementById("vm-taken");
  const takenEmpty = document.getElementById("vm-taken-empty");

  const greeting = bindRecording(document.getElementById("vm-greeting"), {
    url: `${base}/greeting`,
    key: "greeting",
    maxBytes,
    texts: {
      saved: t("vm.greeting_saved"),
      deleted: t("vm.greeting_deleted"),
      deleteConfirm: t("vm.greeting_delete_confirm"),
    },
  });
  const nameClip = bindRecording(document.getElementById("vm-name"), {
    url: `${base}/name-clip`,
    key: "name_clip",
    maxBytes,
    texts: {
      saved: t("vm.name_saved"),
      deleted: t("vm.name_deleted"),
      deleteConfirm: t("vm.name_delete_confirm"),
    },
  });
  const failed = (err) => greeting.say(t("common.error", { message: err.message }), true);

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
    li.querySelector(".vm-caller").textContent = callerText(message.caller, message.caller_display);
    li.querySelector(".vm-when").textContent = whenFormat.format(new Date(message.received_at));
    li.querySelector(".vm-length").textContent = clock(message.duration_ms);
    const download = li.querySelector('[data-action="download"]');
    download.href = message.audio_url;
    markRow(li, message.heard);
    const slot = li.querySelector(".vm-item-actions");
    slot.addEventListener("click", (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action === "play") {
        play(li, message).catch(failed);
      } else if (action === "delete") {
        confirmStep(slot, t("vm.delete_confirm"), async () => {
          await api("DELETE", message.audio_url);
          const next = li.nextElementSibling || li.previousElementSibling;
          li.remove();
          countUnheard();
          const after = next?.querySelector('[data-action="play"]');
          (after || document.getElementById("vm-inbox-title")).focus();
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
    number.textContent = message.caller_number ? callerText(message.caller_number, message.caller_display) : "";
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
    greeting.show(inbox.greeting);
    nameClip.show(inbox.name_clip);
    list.replaceChildren(...inbox.messages.map(messageRow));
    countUnheard();
    taken.replaceChildren(...messages.messages.map(takenRow));
    takenEmpty.hidden = messages.messages.length > 0;
    root.dataset.loaded = "true";
  }

  /** The inbox as the server has it now, merged into the rows shown: new messages are
   * added, deleted ones removed, heard ones marked; a row that stays (and a message being
   * played in it) is left alone. */
  async function refresh() {
    const inbox = await api("GET", `${base}/voicemail`);
    const shown = new Map(
      [...list.querySelectorAll(".vm-item")].map((li) => [li.dataset.messageId, li]),
    );
    const rows = inbox.messages.map((message) => {
      const li = shown.get(message.message_id);
      if (!li) return messageRow(message);
      shown.delete(message.message_id);
      if (li.dataset.heard !== String(message.heard)) markRow(li, message.heard);
      return li;
    });
    for (const gone of shown.values()) gone.remove();
    rows.forEach((li, i) => {
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    countUnheard();
  }

  load().catch(failed);
  // A message left, heard or deleted elsewhere (a call, the phone, another tab): the list
  // follows, without rebuilding the rows it keeps.
  document.addEventListener("switchboard:voicemail", (event) => {
    if (event.detail.person_id !== root.dataset.person) return;
    refresh().catch(failed);
  });
}

if (section) bindVoicemail(section);
