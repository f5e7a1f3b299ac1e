// Autosave for the entry and amendment forms: nothing typed is lost for more than a few seconds.
// The text is also kept in this browser (localStorage) until the server has it.
(function () {
  "use strict";
  const form = document.getElementById("entry-form") || document.getElementById("amend-form");
  if (!form) return;
  const textarea = form.querySelector("#text");
  const status = document.getElementById("save-status");
  const csrf = form.dataset.csrf;
  const isAmend = form.dataset.amend === "1";
  let entryId = form.dataset.entry || null;
  let version = form.dataset.version ? Number(form.dataset.version) : null;
  let timer = null, firstChange = 0, saving = null, dirty = false, stopped = false;
  const backupKey = () => "casenotes-draft:" + (entryId ? "entry-" + entryId : "case-" + form.dataset.case + "-new");

  function say(message) { if (status) status.textContent = message; }

  function fields() {
    const data = { text: textarea.value };
    if (isAmend) return data;
    const day = form.querySelector("#day").value, time = form.querySelector("#time").value || "00:00";
    data.kind = form.querySelector("#kind").value;
    if (day) data.occurred_at = day + "T" + time;
    data.children = Array.from(form.querySelectorAll("input[name=children]:checked")).map((c) => Number(c.value));
    return data;
  }

  async function send(keepalive) {
    const body = fields();
    let url, method;
    if (entryId) {
      url = "/api/v1/entries/" + entryId + "/draft"; method = "PUT"; body.version = version;
    } else {
      if (!body.text.trim()) return;
      url = "/api/v1/cases/" + form.dataset.case + "/entries"; method = "POST";
    }
    const response = await fetch(url, {
      method, keepalive, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const reply = await response.json().catch(() => ({}));
    if (response.status === 409) {
      stopped = true;
      say("Not saved: " + reply.error + " Use Save draft to see both versions.");
      return;
    }
    if (!response.ok) { say("Not saved yet: " + (reply.error || response.statusText) + " Your text is kept on this page."); return; }
    if (!entryId) {
      localStorage.removeItem(backupKey());
      entryId = String(reply.id); version = reply.draft_version;
      form.action = "/entries/" + entryId + "/draft";
      const hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "version"; form.appendChild(hidden);
      history.replaceState(null, "", "/entries/" + entryId + "/edit");
    } else {
      version = reply.version;
    }
    const hidden = form.querySelector("input[name=version]");
    if (hidden) hidden.value = version;
    localStorage.removeItem(backupKey());
    dirty = false;
    document.dispatchEvent(new CustomEvent("casenotes:draft-saved", { detail: { entryId, version } }));
    say("Draft saved at " + new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" }) + ".");
  }

  function save(keepalive) {
    if (stopped || !dirty) return Promise.resolve();
    clearTimeout(timer); timer = null; firstChange = 0;
    saving = (saving || Promise.resolve()).then(() => send(keepalive)).catch(() => {
      say("Not saved yet: no connection. Your text is kept on this page and in this browser.");
    });
    return saving;
  }

  function changed() {
    dirty = true;
    try { localStorage.setItem(backupKey(), JSON.stringify({ text: textarea.value, at: Date.now() })); } catch (e) { /* storage full */ }
    const now = Date.now();
    if (!firstChange) firstChange = now;
    clearTimeout(timer);
    // Save after a pause in typing, and at least every five seconds while typing goes on.
    timer = setTimeout(() => save(false), now - firstChange > 5000 ? 0 : 1200);
  }

  // Offer back text this browser kept but the server never got.
  try {
    const kept = JSON.parse(localStorage.getItem(backupKey()) || "null");
    if (kept && kept.text && kept.text !== textarea.value) {
      const button = document.createElement("button");
      button.type = "button"; button.className = "govuk-button govuk-button--secondary";
      button.textContent = "Restore text not yet saved (" + new Date(kept.at).toLocaleString("en-GB") + ")";
      button.addEventListener("click", () => { textarea.value = kept.text; button.remove(); changed(); });
      textarea.parentNode.insertBefore(button, textarea);
    }
  } catch (e) { /* ignore unreadable backup */ }

  // For review.js: save now (before asking for suggestions) and which entry this is.
  window.casenotesDraft = {
    saveNow: () => { dirty = dirty || !entryId; return save(false); },
    entryId: () => entryId,
  };

  form.addEventListener("input", changed);
  // Typing that happened before this script ran (or text the browser restored) is unsaved too.
  if (textarea.value !== textarea.defaultValue) changed();
  form.addEventListener("change", changed);
  form.addEventListener("submit", () => { clearTimeout(timer); localStorage.removeItem(backupKey()); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") save(true); });
  window.addEventListener("pagehide", () => save(true));
})();
