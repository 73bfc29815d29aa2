// The employee's mobile-hiding choice (R14): one switch, saved at once through
// PUT /api/v1/people/{id}/presentation. The server decides whether it is allowed (R16,
// R18); a refusal puts the switch back and says why.

import { announce, api, t } from "./common.js";

const toggle = document.getElementById("hide-mobile");
const state = document.getElementById("hide-mobile-state");

function show(hidden) {
  toggle.setAttribute("aria-checked", String(hidden));
  state.textContent = hidden ? t("privacy.hide_on") : t("privacy.hide_off");
}

if (toggle) {
  toggle.addEventListener("click", async () => {
    // Busy: aria-disabled, not disabled, so the switch keeps the focus while it saves
    // (WCAG 2.4.3: a disabled button drops it to the page); a click meanwhile does nothing.
    if (toggle.getAttribute("aria-disabled") === "true") return;
    const wanted = toggle.getAttribute("aria-checked") !== "true";
    toggle.setAttribute("aria-disabled", "true");
    try {
      const url = `/api/v1/people/${encodeURIComponent(toggle.dataset.person)}/presentation`;
      const answer = await api("PUT", url, { hide_mobile: wanted });
      show(answer.hide_mobile);
    } catch (err) {
      show(!wanted);
      state.textContent = t("common.error", { message: err.message });
    } finally {
      toggle.removeAttribute("aria-disabled");
    }
    announce(state.textContent); // the page's one live region (base.html)
  });
}
