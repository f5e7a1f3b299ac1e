// Suggestion review beside the narrative: highlighted spans, a grouped panel, keyboard decisions.
// Nothing here makes data by itself: every accept, edit or reject is a request the server records.
(function () {
  "use strict";
  const panel = document.getElementById("review-panel");
  if (!panel) return;
  const data = JSON.parse(document.getElementById("review-data").textContent);
  const csrf = data.csrf;
  const textarea = document.getElementById("text");
  const readonly = document.getElementById("entry-words");
  const list = panel.querySelector("[data-review-list]");
  const status = panel.querySelector("[data-review-status]");
  const people = new Map(data.people.map((p) => [p.id, p]));
  // The kinds of fact, in panel order, as the server's registry describes them (fact_kinds.py).
  const KINDS = new Map(data.kinds.map((k) => [k.name, k]));
  const isBulk = (kind) => KINDS.has(kind) && KINDS.get(kind).bulk;
  let entryId = data.entry_id;
  let state = null, running = null, again = false, timer = null;
  window.casenotesReview = { lastRenderMs: null };

  function say(message) { status.textContent = message; }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v; else if (k.startsWith("data-") || k === "role" || k.startsWith("aria-")) node.setAttribute(k, v); else node[k] = v;
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  }

  async function api(method, path, body) {
    const response = await fetch("/api/v1" + path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(reply.error || response.statusText);
    return reply;
  }

  function bulkTitle() {
    const titles = data.kinds.filter((k) => k.bulk).map((k) => k.title.toLowerCase());
    return titles.length > 1 ? titles.slice(0, -1).join(", ") + " and " + titles[titles.length - 1] : titles.join("");
  }

  // --- highlighting -------------------------------------------------------------------
  function words() { return textarea ? textarea.value : readonly.dataset.text; }

  function paintHighlights() {
    const started = performance.now();
    const target = textarea ? document.getElementById("text-backdrop") : readonly;
    if (!target || !state) return;
    const text = words();
    const spans = state.suggestions.filter((s) => KINDS.has(s.kind) && KINDS.get(s.kind).highlighted && !s.stale && s.state !== "rejected")
      .map((s) => ({ start: s.start, end: s.start + s.text.length, kind: s.kind, id: s.id, state: s.state }))
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const span of spans) {
      if (span.start < at || span.end > text.length) continue;
      fragment.append(text.slice(at, span.start));
      const mark = el("mark", { class: "cn-mark cn-mark--" + span.kind + " cn-mark--" + span.state, "data-suggestion": span.id });
      mark.textContent = text.slice(span.start, span.end);
      fragment.append(mark);
      at = span.end;
    }
    fragment.append(text.slice(at) + "\n");
    target.replaceChildren(fragment);
    window.casenotesReview.lastRenderMs = performance.now() - started;
  }

  // --- the panel ----------------------------------------------------------------------
  function render() {
    const started = performance.now();
    list.replaceChildren();
    const pending = state.suggestions.filter((s) => s.state === "pending");
    const bulk = pending.filter((s) => isBulk(s.kind));
    const head = el("div", { class: "cn-review__actions" });
    if (bulk.length) {
      head.append(el("button", { type: "button", class: "govuk-button govuk-button--secondary cn-small-button", "data-action": "bulk", onclick: acceptBulk },
        "Accept all " + bulk.length + " " + bulkTitle()));
    }
    list.append(head);
    for (const { name: kind, title } of data.kinds) {
      const items = state.suggestions.filter((s) => s.kind === kind);
      const added = state.added.filter((a) => a.kind === kind);
      if (!items.length && !added.length) continue;
      const group = el("ul", { class: "cn-review__group", role: "list", "aria-label": title });
      items.forEach((s) => group.append(item(s)));
      added.forEach((a) => group.append(el("li", { class: "cn-review__item cn-review__item--added" },
        el("span", { class: "cn-review__words" }, "“" + a.text + "”"), " ", a.shown, " ", el("strong", { class: "govuk-tag govuk-tag--green" }, "added by you"))));
      list.append(el("h3", { class: "govuk-heading-s cn-review__title" }, title + " (" + (items.length + added.length) + ")"), group);
    }
    if (!state.suggestions.length && !state.added.length) list.append(el("p", { class: "govuk-body-s" }, "No suggestions for this text."));
    paintHighlights();
    window.casenotesReview.lastRenderMs = performance.now() - started;
  }

  function item(s) {
    const decided = s.state !== "pending";
    const li = el("li", { class: "cn-review__item cn-review__item--" + s.state + (s.stale ? " cn-review__item--stale" : ""), tabIndex: 0, "data-id": s.id, "data-kind": s.kind },
      s.text ? el("span", { class: "cn-review__words" }, "“" + s.text + "”") : el("span", { class: "cn-review__words" }, "Whole entry"), " ",
      el("span", { class: "cn-review__value" }, s.decision ? s.decision.shown : s.shown),
      s.rule.startsWith("reconfirm") ? el("span", { class: "govuk-body-s" }, " — words changed from “" + (s.fields.was || "") + "”, confirm again") : "",
      " ", decided ? el("strong", { class: "govuk-tag " + (s.state === "rejected" ? "govuk-tag--grey" : "govuk-tag--green") }, s.state) : "");
    li.title = "Suggested by " + s.rule + (s.confidence != null ? " (confidence " + s.confidence.toFixed(2) + ")" : "");
    const buttons = el("span", { class: "cn-review__buttons" },
      el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "accept") }, "Accept"),
      el("button", { type: "button", class: "cn-link-button", onclick: () => openEdit(li, s) }, "Edit"),
      el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "reject") }, "Reject"));
    if (KINDS.has(s.kind) && KINDS.get(s.kind).new_person && s.fields.person == null) {
      buttons.append(el("button", { type: "button", class: "cn-link-button", onclick: () => openNewPerson(li, s) }, "New person"));
    }
    if (!s.stale) li.append(" ", buttons);
    li.addEventListener("keydown", (event) => keys(event, li, s));
    li.addEventListener("focus", () => {
      document.querySelectorAll(".cn-mark--focus").forEach((m) => m.classList.remove("cn-mark--focus"));
      const mark = document.querySelector('mark[data-suggestion="' + s.id + '"]');
      if (mark) mark.classList.add("cn-mark--focus");
    });
    return li;
  }

  function keys(event, li, s) {
    if (event.target !== li) return;
    const items = Array.from(list.querySelectorAll(".cn-review__item[data-id]"));
    const index = items.indexOf(li);
    const key = event.key;
    if (key === "ArrowDown" || key === "j") { event.preventDefault(); (items[index + 1] || li).focus(); }
    else if (key === "ArrowUp" || key === "k") { event.preventDefault(); (items[index - 1] || li).focus(); }
    else if (key === "a") { event.preventDefault(); decide(s, "accept"); }
    else if (key === "r") { event.preventDefault(); decide(s, "reject"); }
    else if (key === "e") { event.preventDefault(); openEdit(li, s); }
    else if (key === "A") { event.preventDefault(); acceptBulk(); }
  }

  function focusAfter(id) {
    const items = Array.from(list.querySelectorAll(".cn-review__item[data-id]"));
    const next = items.find((i) => Number(i.dataset.id) > id && i.classList.contains("cn-review__item--pending")) || items.find((i) => i.classList.contains("cn-review__item--pending"));
    if (next) next.focus();
  }

  async function decide(s, decision, fields) {
    try {
      await api("POST", "/entries/" + entryId + "/decisions", { suggestion_id: s.id, decision, fields: fields || {} });
      say((decision === "reject" ? "Rejected" : decision === "edit" ? "Changed and accepted" : "Accepted") + ": “" + s.text + "”.");
      await refresh();
      focusAfter(s.id);
    } catch (error) { say("Not saved: " + error.message); }
  }

  async function acceptBulk() {
    const ids = state.suggestions.filter((s) => s.state === "pending" && !s.stale && isBulk(s.kind)).map((s) => s.id);
    if (!ids.length) return;
    try {
      await api("POST", "/entries/" + entryId + "/decisions/bulk", { suggestion_ids: ids });
      say("Accepted " + ids.length + " " + bulkTitle() + ".");
      await refresh();
      focusAfter(0);
    } catch (error) { say("Not saved: " + error.message); }
  }

  // --- editing a value ----------------------------------------------------------------
  function fieldsForm(kind, current, onSave) {
    const form = el("form", { class: "cn-review__edit" });
    const controls = [];
    const select = (name, label, options, value) => {
      const id = "edit-" + name + "-" + Math.random().toString(36).slice(2, 7);
      const node = el("select", { class: "govuk-select", id, name }, options.map(([v, l]) => el("option", { value: v, selected: String(v) === String(value) }, l)));
      controls.push(el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, label), node));
    };
    const choicesOf = (spec) => Array.isArray(spec.choices) ? spec.choices
      : Array.isArray(data[spec.choices]) ? data[spec.choices].map((a) => [a, a]) : Object.entries(data[spec.choices] || {});
    for (const spec of (KINDS.has(kind) ? KINDS.get(kind).editor : [])) {
      const value = current[spec.name] != null ? current[spec.name] : spec.default;
      if (spec.control === "person" || spec.control === "child") {
        const choices = data.people.filter((p) => spec.control === "person" || p.category === "child").map((p) => [p.id, p.name + " (" + (p.relationship || p.category) + ")"]);
        if (spec.none) choices.unshift(["", spec.none]);
        select(spec.name, spec.label, choices, value);
      } else if (spec.control === "yesno") {
        select(spec.name, spec.label, [["true", "Yes"], ["false", "No"]], String(!!value));
      } else if (spec.control === "date") {
        const id = "edit-" + spec.name + "-" + Math.random().toString(36).slice(2, 7);
        controls.push(el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, spec.label), el("input", { class: "govuk-input govuk-input--width-10", type: "date", id, name: spec.name, value: value || "" })));
      } else {
        select(spec.name, spec.label, choicesOf(spec), value);
      }
    }
    form.append(...controls, el("button", { type: "submit", class: "govuk-button cn-small-button" }, "Save"), " ",
      el("button", { type: "button", class: "govuk-button govuk-button--secondary cn-small-button", onclick: () => form.remove() }, "Cancel"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {};
      new FormData(form).forEach((v, k) => {
        const control = (KINDS.get(kind).editor.find((f) => f.name === k) || {}).control;
        values[k] = control === "person" || control === "child" ? (v === "" ? null : Number(v)) : control === "yesno" ? v === "true" : v;
      });
      onSave(values);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") form.remove();
      // Enter on a choice saves, as it does in a text box.
      if (event.key === "Enter" && event.target.tagName === "SELECT") { event.preventDefault(); form.requestSubmit(); }
    });
    return form;
  }

  function openEdit(li, s) {
    li.querySelectorAll("form").forEach((f) => f.remove());
    const form = fieldsForm(s.kind, s.decision ? s.decision.fields : s.fields, (values) => decide(s, "edit", values));
    li.append(form);
    form.querySelector("select, input").focus();
  }

  function openNewPerson(li, s) {
    li.querySelectorAll("form").forEach((f) => f.remove());
    const form = el("form", { class: "cn-review__edit" });
    const field = (name, label, value, type) => {
      const id = "new-" + name + "-" + s.id;
      return el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: id }, label),
        el("input", { class: "govuk-input", id, name, value: value || "", type: type || "text" }));
    };
    const category = el("select", { class: "govuk-select", name: "category", id: "new-category-" + s.id }, data.categories.map((c) => el("option", { value: c, selected: c === "other" }, c)));
    const results = el("div", { "data-duplicates": "", role: "status", "aria-live": "polite" });
    form.append(field("name", "Name", s.text.replace(/^(the|her|his|their)\s+/i, "")), field("relationship", "Relationship to the child", s.fields.relationship),
      el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: "new-category-" + s.id }, "Who they are to the family"), category),
      field("dob", "Date of birth (if known)", "", "date"),
      el("button", { type: "submit", class: "govuk-button govuk-button--secondary cn-small-button" }, "Check for existing records"), results);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const details = Object.fromEntries(new FormData(form));
      if (!details.dob) delete details.dob;
      try {
        const found = await api("POST", "/cases/" + data.case_id + "/people/duplicates", details);
        results.replaceChildren();
        if (found.length) {
          results.append(el("p", { class: "govuk-body-s" }, "These records may be the same person:"));
          const ul = el("ul", { class: "govuk-list" });
          found.forEach((c) => ul.append(el("li", {}, c.name + (c.dob ? ", born " + c.dob : "") + " — case " + c.case_reference + " (" + c.reasons.join(", ") + ") ",
            c.same_case ? el("button", { type: "button", class: "cn-link-button", onclick: () => decide(s, "edit", { person: c.id }) }, "Link to this person") : el("span", { class: "govuk-body-s" }, "on another case: ask your manager before creating a second record"))));
          results.append(ul);
        } else {
          results.append(el("p", { class: "govuk-body-s" }, "No existing record looks like this person."));
        }
        results.append(el("button", { type: "button", class: "govuk-button cn-small-button", onclick: async () => {
          try {
            await api("POST", "/entries/" + entryId + "/people", { suggestion_id: s.id, ...details });
            data.people = (await api("GET", "/cases/" + data.case_id)).people;
            data.people.forEach((p) => people.set(p.id, p));
            say("Added " + details.name + " to the record.");
            await refresh();
          } catch (error) { say("Not saved: " + error.message); }
        } }, "Create new person"));
      } catch (error) { say(error.message); }
    });
    li.append(form);
    form.querySelector("input").focus();
  }

  // --- adding a fact from selected words ----------------------------------------------
  const addButton = document.getElementById("add-fact");
  if (addButton && textarea) {
    addButton.addEventListener("click", async () => {
      const start = textarea.selectionStart, end = textarea.selectionEnd;
      if (start === end) { say("Select the words in the narrative first, then choose Add a fact."); return; }
      const selected = textarea.value.slice(start, end);
      const kindSelect = el("select", { class: "govuk-select", id: "add-kind" }, data.kinds.map((k) => el("option", { value: k.name }, k.title)));
      const box = el("div", { class: "cn-review__edit", id: "add-fact-form" }, el("p", { class: "govuk-body-s" }, "Selected: “" + selected + "”"),
        el("div", { class: "govuk-form-group" }, el("label", { class: "govuk-label", htmlFor: "add-kind" }, "What these words are"), kindSelect));
      const showFields = () => {
        box.querySelectorAll("form").forEach((f) => f.remove());
        box.append(fieldsForm(kindSelect.value, {}, async (values) => {
          try {
            if (window.casenotesDraft) await window.casenotesDraft.saveNow();
            entryId = entryId || (window.casenotesDraft && window.casenotesDraft.entryId());
            await api("POST", "/entries/" + entryId + "/facts", { kind: kindSelect.value, start, end, fields: values });
            box.remove();
            say("Added: “" + selected + "”.");
            await refresh();
          } catch (error) { say("Not saved: " + error.message); }
        }));
      };
      kindSelect.addEventListener("change", showFields);
      document.getElementById("add-fact-form")?.remove();
      addButton.after(box);
      showFields();
      kindSelect.focus();
    });
  }

  // --- running and refreshing ---------------------------------------------------------
  async function refresh() {
    state = await api("GET", "/entries/" + entryId + "/suggestions");
    render();
  }

  let lastRunText = null;
  async function run(force) {
    entryId = entryId || (window.casenotesDraft && window.casenotesDraft.entryId());
    if (!entryId) { say("Start writing: suggestions appear once the draft is saved."); return; }
    // Automatic refreshes skip unchanged text and never pull a form from under the worker.
    if (!force && (words() === lastRunText || panel.querySelector("form"))) return;
    if (running) { again = true; return running; }
    const asked_text = words();
    say("Looking for suggestions…");
    const asked = performance.now();
    running = api("POST", "/entries/" + entryId + "/suggestions").then((reply) => {
      state = reply;
      lastRunText = asked_text;
      render();
      window.casenotesReview.suggestToPaintMs = performance.now() - asked;
      const pending = state.suggestions.filter((s) => s.state === "pending").length;
      say(pending + " suggestion" + (pending === 1 ? "" : "s") + " to review.");
    }).catch((error) => say(error.message)).finally(() => {
      running = null;
      if (again) { again = false; run(false); }
    });
    return running;
  }
  window.casenotesReview.run = run;

  document.getElementById("run-suggestions")?.addEventListener("click", async () => {
    if (window.casenotesDraft) await window.casenotesDraft.saveNow();
    await run(true);
    const first = list.querySelector(".cn-review__item--pending");
    if (first) first.focus();
  });
  // Refresh by themselves after a pause in typing, once the draft has been saved.
  document.addEventListener("casenotes:draft-saved", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(false), 1500);
  });
  if (textarea) {
    const backdrop = document.getElementById("text-backdrop");
    textarea.addEventListener("scroll", () => { if (backdrop) backdrop.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("input", () => { if (state) { state.suggestions.forEach((s) => { s.stale = s.stale || textarea.value.slice(s.start, s.start + s.text.length) !== s.text; }); paintHighlights(); } });
  }
  if (entryId) refresh().catch(() => {});
})();
