// A person's planned referrals on the receptionist's row (issue 16), and cancelling one on
// their behalf: "Avboka" per plan, only for accounts that may change anyone's presence
// (`page.may_write`, the same WRITE_PRESENCE the DELETE asks for, so no button is shown
// that the server would refuse), after a confirm dialog. The result is said in the polite
// live region; focus goes to the next plan's button, or to the row (WCAG 2.4.3).
//
// The rows belong to reception.js, which calls `applyPlans` whenever it draws a presence
// and hands `bindPlanCancel` a way to find a row and to drop the plan from it.

import { announce, api, page, planText, plannedText, t } from "./common.js";

const ACTION = "cancel-plan-"; // + the plan's id: restoreFocus in reception.js finds it again

/** The plan's words as its line shows them (its note too, as on the employee's page). */
function words(plan) {
  const text = planText(plan);
  return plan.text ? `${text} · “${plan.text}”` : text;
}

/** Draw `plans` into the row's list; drawn again only when they changed, so a live update
 * of the same plans leaves a focused button where it is. */
export function applyPlans(li, name, plans, onCancel) {
  const list = li.querySelector(".planned");
  const key = JSON.stringify(plans.map((p) => [p.id, plannedText(p), p.text]));
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  list.replaceChildren(...plans.map((plan) => {
    const item = document.createElement("li");
    item.className = "planned-item";
    const text = document.createElement("span");
    text.className = "planned-text small muted";
    text.textContent = plan.text ? `${plannedText(plan)} · “${plan.text}”` : plannedText(plan);
    item.append(text);
    // A status set with a later start, from before plans were kept apart, has no id: it
    // is cleared with the current status ("Gör tillgänglig"), not here.
    if (page.may_write && plan.id) {
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "btn btn-quiet btn-small plan-cancel";
      cancel.dataset.action = `${ACTION}${plan.id}`;
      cancel.textContent = t("plans.cancel");
      cancel.setAttribute("aria-label", t("reception.plan_cancel_label", { plan: words(plan), name }));
      cancel.addEventListener("click", () => onCancel(plan, cancel));
      item.append(" ", cancel);
    }
    return item;
  }));
  list.hidden = plans.length === 0;
  if (focused) (list.querySelector(`[data-action="${focused}"]`) || li).focus();
}

/** The confirm dialog. `rowOf(personId)` gives `{ li, person }` as drawn now (the list
 * may have been drawn anew while the dialog was open); `onCancelled(personId, planId)`
 * drops the plan from the row at once, before the live feed says the same. */
export function bindPlanCancel({ rowOf, onCancelled }) {
  const dialog = document.getElementById("plan-cancel-dialog");
  if (!dialog) return () => {};
  const text = document.getElementById("plan-cancel-text");
  const error = document.getElementById("plan-cancel-error");
  const yes = document.getElementById("plan-cancel-yes");
  const no = document.getElementById("plan-cancel-no");
  let asked = null; // { personId, name, plan, next, done }

  function open(personId, name, plan, button) {
    // The plan after this one, whose button gets the focus once this one is gone.
    const buttons = [...button.closest(".planned").querySelectorAll(".plan-cancel")];
    const next = buttons[buttons.indexOf(button) + 1]?.dataset.action || null;
    asked = { personId, name, plan, next, action: button.dataset.action, done: false };
    text.textContent = t("reception.plan_confirm_text", { name, plan: words(plan) });
    error.textContent = "";
    error.hidden = true;
    yes.hidden = false;
    yes.disabled = false;
    yes.removeAttribute("aria-describedby");
    dialog.showModal();
    no.focus(); // the safe choice first: Enter on an opened dialog cancels nothing
  }

  /** A refusal in the reader's words (common.js turned the server's code into them),
   * said at once (role="alert") and tied to the button it answers. */
  function refuse(err) {
    error.textContent = err.status ? err.message : t("common.error", { message: err.message });
    error.hidden = false;
    yes.setAttribute("aria-describedby", error.id);
    if (err.code === "plan_unknown") {
      yes.hidden = true; // gone already: nothing left to cancel
      no.focus();
    } else {
      yes.disabled = false;
      yes.focus();
    }
  }

  yes.addEventListener("click", async () => {
    if (!asked || yes.disabled) return;
    const { personId, plan } = asked;
    yes.disabled = true;
    try {
      await api("DELETE", `/api/v1/people/${encodeURIComponent(personId)}/plans/${encodeURIComponent(plan.id)}`);
    } catch (err) {
      refuse(err);
      return;
    }
    asked.done = true;
    onCancelled(personId, plan.id);
    announce(t("reception.plan_cancelled", { name: asked.name, plan: words(plan) }));
    dialog.close();
  });
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }

  dialog.addEventListener("close", () => {
    if (!asked) return;
    const { personId, next, action, done } = asked;
    asked = null;
    const row = rowOf(personId);
    if (!row) return; // the person left the list meanwhile; reception.js has put focus back
    const wanted = done ? next : action;
    const button = wanted && row.li.querySelector(`[data-action="${wanted}"]:not([hidden])`);
    (button || row.li).focus();
  });

  return open;
}
