// Dictation on the entry form: record (or choose a file), send it in pieces, follow the
// transcription, and put the transcript into the draft text for the worker to edit.
// Nothing is lost: a recording is kept in this browser (IndexedDB) piece by piece while it is
// made, and until the server confirms it has all of it; an interrupted upload resumes from what
// the server holds. Talks to this server only (/api/v1/dictations).
(function () {
  "use strict";
  const panel = document.getElementById("dictation");
  if (!panel) return;
  const form = document.getElementById("entry-form");
  const textarea = document.getElementById("text");
  const caseId = panel.dataset.case;
  const csrf = panel.dataset.csrf;
  const maxBytes = Number(panel.dataset.maxMb || 200) * 1000000;
  const PIECE = 1024 * 1024;
  const $ = (sel) => panel.querySelector(sel);
  const statusLine = $("#dictation-status");
  const jobsBox = $("#dictation-jobs");
  const keptBox = $("#dictation-kept");
  const buttons = { record: $("[data-action=record]"), pause: $("[data-action=pause]"), stop: $("[data-action=stop]") };
  const timerEl = $("#dictation-timer");
  const meter = $("#dictation-level");
  const fileInput = $("#dictation-file");
  const shown = new Map(); // job id -> {box, after, live}

  // The panel sits inside the entry form: its own controls must not count as draft edits.
  ["input", "change"].forEach((type) => panel.addEventListener(type, (e) => e.stopPropagation()));

  function say(message) { statusLine.textContent = message; }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
  }
  function megabytes(bytes) { return (bytes / 1000000).toFixed(1) + " MB"; }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function entryId() {
    if (window.casenotesDraft && window.casenotesDraft.entryId()) return String(window.casenotesDraft.entryId());
    if (panel.dataset.entry) return panel.dataset.entry;
    const found = /\/entries\/(\d+)\/draft$/.exec(form ? form.getAttribute("action") || "" : "");
    return found ? found[1] : null;
  }

  async function api(method, url, body, headers) {
    const options = { method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRF-Token": csrf, ...(headers || {}) } };
    if (body instanceof Blob) options.body = body;
    else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
    const response = await fetch(url, options);
    const reply = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, reply };
  }

  // --- the browser's copy: IndexedDB ---------------------------------------------------
  let dbPromise = null;
  function idb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const open = indexedDB.open("casenotes-dictation", 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore("recordings", { keyPath: "id" });
          open.result.createObjectStore("pieces", { keyPath: ["rec", "seq"] });
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return dbPromise;
  }
  async function store(names, mode, work) {
    const db = await idb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      let result;
      Promise.resolve(work(tx)).then((value) => { result = value; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
  const saveRecording = (rec) => store(["recordings"], "readwrite", (tx) => tx.objectStore("recordings").put(rec)).catch(() => {});
  const savePiece = (rec, seq, blob) => store(["pieces"], "readwrite", (tx) => tx.objectStore("pieces").put({ rec, seq, blob }));
  const allRecordings = () => store(["recordings"], "readonly", (tx) => request(tx.objectStore("recordings").getAll())).catch(() => []);
  async function blobOf(rec) {
    const pieces = await store(["pieces"], "readonly", (tx) => request(tx.objectStore("pieces").getAll(IDBKeyRange.bound([rec.id, 0], [rec.id, Infinity]))));
    return new Blob(pieces.sort((a, b) => a.seq - b.seq).map((p) => p.blob), { type: rec.mime });
  }
  const forget = (rec) => store(["recordings", "pieces"], "readwrite", (tx) => {
    tx.objectStore("recordings").delete(rec.id);
    tx.objectStore("pieces").delete(IDBKeyRange.bound([rec.id, 0], [rec.id, Infinity]));
  }).catch(() => {});
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());

  // --- recording -------------------------------------------------------------------------
  let recorder = null, stream = null, audioContext = null, rec = null, seq = 0;
  let elapsed = 0, runningSince = 0, tick = null, levelFrame = null;

  function showTime() {
    const seconds = elapsed + (runningSince ? (Date.now() - runningSince) / 1000 : 0);
    timerEl.textContent = clock(seconds);
  }
  function preferredType() {
    for (const type of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"]) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }
  function extensionOf(mime) { return mime.includes("ogg") ? "ogg" : mime.includes("mp4") ? "m4a" : "webm"; }

  function watchLevel(source) {
    audioContext = new (window.AudioContext || window.webkitAudioContext)();
    const analyser = audioContext.createAnalyser();
    analyser.fftSize = 1024;
    audioContext.createMediaStreamSource(source).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      levelFrame = requestAnimationFrame(draw);
    };
    draw();
  }

  async function startRecording() {
    if (!navigator.mediaDevices || !window.MediaRecorder) { say("This browser cannot record. Choose a recording file instead."); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      say("The microphone could not be used (" + error.name + "). Allow this site to use it, or choose a recording file."); return;
    }
    const mime = preferredType();
    recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
    const type = recorder.mimeType || mime || "audio/webm";
    rec = { id: newId(), caseId, entryId: entryId(), jobId: null, mime: type, state: "recording",
            filename: "dictation-" + new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-") + "." + extensionOf(type),
            createdAt: Date.now() };
    seq = 0;
    await saveRecording(rec);
    const current = rec, inMemory = [];
    current.memory = inMemory; // sent from memory; IndexedDB is the copy that outlives the page
    recorder.ondataavailable = (event) => {
      if (!event.data || !event.data.size) return;
      inMemory.push(event.data);
      savePiece(current.id, seq++, event.data).catch(() => say("This browser could not keep a copy of the recording (storage full?); it is sent from this page."));
    };
    recorder.onstop = () => finishRecording(current);
    recorder.start(1000); // a piece a second, each kept at once
    watchLevel(stream);
    elapsed = 0; runningSince = Date.now(); tick = setInterval(showTime, 250);
    timerEl.classList.add("cn-dictation__timer--live");
    buttons.record.hidden = true; buttons.pause.hidden = false; buttons.stop.hidden = false;
    buttons.pause.textContent = "Pause"; buttons.stop.focus();
    say("Recording. Pause or stop when you are done.");
  }

  function pauseRecording() {
    if (!recorder) return;
    if (recorder.state === "recording") {
      recorder.pause(); elapsed += (Date.now() - runningSince) / 1000; runningSince = 0;
      buttons.pause.textContent = "Resume"; timerEl.classList.remove("cn-dictation__timer--live"); say("Paused.");
    } else if (recorder.state === "paused") {
      recorder.resume(); runningSince = Date.now();
      buttons.pause.textContent = "Pause"; timerEl.classList.add("cn-dictation__timer--live"); say("Recording.");
    }
    showTime();
  }

  function stopRecording() {
    if (!recorder || recorder.state === "inactive") return;
    if (runningSince) elapsed += (Date.now() - runningSince) / 1000;
    runningSince = 0;
    recorder.stop();
  }

  async function finishRecording(current) {
    clearInterval(tick); cancelAnimationFrame(levelFrame); meter.value = 0; showTime();
    timerEl.classList.remove("cn-dictation__timer--live");
    stream.getTracks().forEach((track) => track.stop());
    if (audioContext) audioContext.close();
    recorder = null;
    buttons.record.hidden = false; buttons.pause.hidden = true; buttons.stop.hidden = true;
    buttons.record.focus();
    await sleep(50); // let the last piece be stored
    const memory = current.memory;
    delete current.memory;
    current.state = "ready"; current.seconds = elapsed;
    await saveRecording(current);
    send(current, new Blob(memory, { type: current.mime }));
  }

  async function chooseFile() {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    fileInput.value = "";
    if (file.size > maxBytes) { say("That file is " + megabytes(file.size) + "; the limit is " + megabytes(maxBytes) + ". Split the recording into shorter parts."); return; }
    const chosen = { id: newId(), caseId, entryId: entryId(), jobId: null, mime: file.type || "application/octet-stream",
                     state: "ready", filename: file.name, createdAt: Date.now() };
    try { await savePiece(chosen.id, 0, file); await saveRecording(chosen); } catch (e) { /* sent from memory then */ }
    send(chosen, file);
  }

  // --- sending -------------------------------------------------------------------------
  async function send(current, blob) {
    blob = blob || await blobOf(current);
    if (!blob.size) { say("Nothing was recorded."); forget(current); return; }
    let job;
    if (current.jobId) {
      const found = await api("GET", "/api/v1/dictations/" + current.jobId);
      if (!found.ok || found.reply.status !== "uploading") { forget(current); if (found.ok) follow(found.reply); return; }
      job = found.reply;
    } else {
      let entry = current.entryId || entryId();
      if (!entry && window.casenotesDraft && textarea.value.trim()) {
        await window.casenotesDraft.saveNow(); // draft.js makes the draft with the text typed
        entry = entryId();
      }
      const body = { filename: current.filename };
      if (entry) body.entry_id = Number(entry);
      else Object.assign(body, { case_id: Number(caseId), ...draftFields() });
      const started = await api("POST", "/api/v1/dictations", body).catch(() => ({ ok: false, status: 0, reply: { error: "no connection." } }));
      if (!started.ok) {
        say("The recording could not be sent: " + (started.reply.error || "error " + started.status) + " It is kept in this browser.");
        offerKept(current);
        return;
      }
      job = started.reply;
      current.jobId = job.id; current.entryId = String(job.entry_id);
      await saveRecording(current);
      if (!entry) {
        // A new draft was made for this recording: carry on from its own page, where the
        // upload resumes from this browser's copy.
        textarea.value = "";
        try { localStorage.removeItem("casenotes-draft:case-" + caseId + "-new"); } catch (e) { /* ignore */ }
        location.replace("/entries/" + job.entry_id + "/edit#dictation");
        return;
      }
    }
    const box = render(job);
    let offset = job.received, wait = 1000;
    while (offset < blob.size) {
      say("Sending the recording: " + megabytes(offset) + " of " + megabytes(blob.size) + ".");
      box.progress.value = offset / blob.size / 10;
      let sent;
      try {
        sent = await api("PUT", "/api/v1/dictations/" + job.id + "/audio?offset=" + offset,
                         blob.slice(offset, offset + PIECE), { "Content-Type": "application/octet-stream" });
      } catch (error) {
        sent = { ok: false, status: 0, reply: {} };
      }
      if (sent.ok && typeof sent.reply.received === "number") { offset = sent.reply.received; wait = 1000; continue; }
      if (sent.status === 409 || sent.status === 0 || sent.status >= 500) {
        if (sent.status !== 409) {
          say("The connection dropped: " + megabytes(offset) + " of " + megabytes(blob.size) + " reached the server. Trying again; the recording is kept in this browser.");
          await sleep(wait); wait = Math.min(wait * 2, 15000);
        }
        const state = await api("GET", "/api/v1/dictations/" + job.id).catch(() => null);
        if (state && state.ok) {
          if (state.reply.status !== "uploading") { forget(current); follow(state.reply); return; }
          offset = state.reply.received;
        }
        continue;
      }
      say("The recording could not be sent: " + (sent.reply.error || "error " + sent.status));
      if (sent.status === 413) forget(current);
      const state = await api("GET", "/api/v1/dictations/" + job.id).catch(() => null);
      if (state && state.ok) follow(state.reply);
      return;
    }
    let done = null;
    while (!done) {
      const finished = await api("POST", "/api/v1/dictations/" + job.id + "/complete").catch(() => null);
      if (finished && finished.ok) done = finished.reply;
      else if (finished && finished.status < 500) { say("The recording could not be finished: " + (finished.reply.error || finished.status)); return; }
      else { say("Waiting for the connection to finish sending the recording…"); await sleep(wait); wait = Math.min(wait * 2, 15000); }
    }
    await forget(current); // the server has all of it now
    say(done.status === "failed" ? "The recording could not be used." : "Recording received. Transcribing…");
    follow(done, true);
  }

  function draftFields() {
    if (!form) return {};
    const get = (sel) => { const el = form.querySelector(sel); return el ? el.value : ""; };
    const fields = { kind: get("#kind") || null, text: textarea.value };
    if (get("#day")) fields.occurred_at = get("#day") + "T" + (get("#time") || "00:00");
    const boxes = form.querySelectorAll("input[name=children]");
    if (boxes.length) fields.children = Array.from(boxes).filter((c) => c.checked).map((c) => Number(c.value));
    return fields;
  }

  // --- following a job -----------------------------------------------------------------
  function element(tag, attrs, text) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") el.className = value; else el.setAttribute(key, value);
    }
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function render(job) {
    let view = shown.get(job.id);
    if (view) return view;
    const box = element("div", { class: "cn-dictation__job", id: "dictation-job-" + job.id, "data-testid": "dictation-job", "data-status": job.status });
    const heading = element("h3", { class: "govuk-heading-s" }, "Recording " + job.filename);
    const progressLabel = element("label", { class: "govuk-body-s", for: "dictation-progress-" + job.id }, "");
    const progress = element("progress", { id: "dictation-progress-" + job.id, max: "1", value: "0" });
    const live = element("p", { class: "govuk-body cn-dictation__live", "aria-live": "polite", "data-testid": "dictation-live" });
    const cancel = element("button", { type: "button", class: "govuk-button govuk-button--warning govuk-!-margin-bottom-2" }, "Stop transcribing");
    cancel.addEventListener("click", async () => {
      const stopped = await api("POST", "/api/v1/dictations/" + job.id + "/cancel");
      if (stopped.ok) update(stopped.reply);
    });
    const outcome = element("div");
    box.append(heading, progressLabel, progress, live, cancel, outcome);
    jobsBox.prepend(box);
    view = { box, heading, progressLabel, progress, live, cancel, outcome, after: 0, watching: false, job };
    shown.set(job.id, view);
    return view;
  }

  function update(job) {
    const view = render(job);
    view.job = job;
    view.box.dataset.status = job.status;
    const length = job.duration ? " (" + clock(job.duration) + ")" : "";
    view.heading.textContent = "Recording " + job.filename + length;
    for (const segment of job.segments || []) view.live.textContent += (view.live.textContent ? " " : "") + segment.text;
    view.after = (job.segments_from || 0) + (job.segments || []).length;
    const active = ["uploading", "queued", "running"].includes(job.status);
    view.cancel.hidden = !active;
    view.progress.hidden = !active;
    view.progressLabel.hidden = !active;
    if (job.status === "uploading") view.progressLabel.textContent = "Sending: " + megabytes(job.received) + " received";
    if (job.status === "queued") view.progressLabel.textContent = "Waiting to be transcribed…";
    if (job.status === "running") {
      view.progress.value = job.progress;
      view.progressLabel.textContent = "Transcribing: " + Math.round(job.progress * 100) + "%";
    }
    if (!active) { view.live.hidden = true; showOutcome(view, job); }
    return view;
  }

  async function follow(job, live) {
    const view = update(job);
    if (live) view.insertWhenDone = true;
    if (view.watching) return;
    view.watching = true;
    while (["queued", "running"].includes(view.job.status)) {
      await sleep(1000);
      const next = await api("GET", "/api/v1/dictations/" + job.id + "?after=" + view.after).catch(() => null);
      if (next && next.ok) update(next.reply);
    }
    view.watching = false;
    if (view.job.status === "done" && view.insertWhenDone && !view.job.applied_at) insertTranscript(view, false);
  }

  function showOutcome(view, job) {
    const out = view.outcome;
    out.replaceChildren();
    if (job.status === "failed") {
      out.append(element("p", { class: "govuk-error-message", "data-testid": "dictation-error" }, "Not transcribed: " + job.error));
      return;
    }
    if (job.status === "cancelled") { out.append(element("p", { class: "govuk-body-s" }, "Transcription stopped.")); return; }
    if (job.status === "uploading") return;
    if (job.status !== "done") return;
    let audio = null;
    if (job.has_audio) {
      audio = element("audio", { class: "cn-dictation__audio", controls: "", preload: "none", src: job.audio_url, "aria-label": "Recording " + job.filename });
      out.append(audio);
    } else {
      out.append(element("p", { class: "govuk-body-s" }, "The recording is no longer kept."));
    }
    const status = element("p", { class: "govuk-body-s", "data-testid": "dictation-applied" });
    if (job.applied_at) status.textContent = "The transcript was added to what happened.";
    out.append(status);
    const add = element("button", { type: "button", "data-testid": "dictation-insert",
      class: "govuk-button govuk-!-margin-bottom-2" + (job.applied_at ? " govuk-button--secondary" : "") },
      job.applied_at ? "Add the transcript again" : "Add the transcript to what happened");
    add.addEventListener("click", () => insertTranscript(view, Boolean(job.applied_at)));
    out.append(add);
    if (job.corrections && job.corrections.length) {
      out.append(element("h4", { class: "govuk-heading-s" }, "Words changed to the case's own (check each)"));
      const list = element("ul", { class: "govuk-list govuk-body-s cn-dictation__corrections", "data-testid": "dictation-corrections" });
      for (const c of job.corrections) {
        const item = element("li");
        item.append(document.createTextNode("heard “" + c.original.trim() + "” → wrote “" + c.replacement + "” (" + c.kind + ") "));
        if (c.start !== null && c.start !== undefined && audio) item.append(timeButton(audio, c.start));
        list.append(item);
      }
      out.append(list);
    }
    const details = element("details", { class: "govuk-details" });
    const summary = element("summary", { class: "govuk-details__summary" });
    summary.append(element("span", { class: "govuk-details__summary-text" }, "Transcript by time (" + job.segments.length + " parts)"));
    const list = element("ol", { class: "govuk-body-s cn-dictation__segments", "data-testid": "dictation-segments" });
    for (const segment of job.segments) {
      const item = element("li");
      if (audio) item.append(timeButton(audio, segment.start));
      else item.append(element("span", { class: "cn-dictation__time" }, clock(segment.start)));
      item.append(document.createTextNode(" " + segment.text));
      list.append(item);
    }
    details.append(summary, element("div", { class: "govuk-details__text" }));
    details.lastChild.append(list);
    out.append(details);
  }

  function timeButton(audio, start) {
    const button = element("button", { type: "button", class: "cn-dictation__time", "aria-label": "Play the recording from " + clock(start) }, clock(start));
    button.addEventListener("click", () => { audio.currentTime = start; audio.play().catch(() => {}); });
    return button;
  }

  async function insertTranscript(view, again) {
    const text = (view.job.text || "").trim();
    if (!text || view.inserting) return;
    view.inserting = true;
    // Claim it first: of two tabs open on this draft, only one adds the transcript.
    const marked = await api("POST", "/api/v1/dictations/" + view.job.id + "/applied").catch(() => null);
    view.inserting = false;
    if (!marked || !marked.ok) { say("The transcript could not be added just now; try again."); return; }
    if (marked.reply.first || again) {
      // Appended, leaving the worker's cursor (and anything typed meanwhile) where it was.
      const start = textarea.selectionStart, end = textarea.selectionEnd;
      const before = textarea.value.replace(/\s+$/, "");
      textarea.value = before ? before + "\n\n" + text : text;
      textarea.setSelectionRange(Math.min(start, before.length), Math.min(end, before.length));
      textarea.dispatchEvent(new Event("input", { bubbles: true })); // draft.js saves it
      say("The transcript was added to what happened. Check it against the recording and edit as needed.");
    }
    update(marked.reply);
  }

  // --- coming back to the page ---------------------------------------------------------
  async function restore() {
    const entry = entryId();
    const kept = (await allRecordings()).filter((r) => (entry && r.entryId === entry) || (!r.entryId && r.caseId === caseId));
    const jobs = entry ? await api("GET", "/api/v1/entries/" + entry + "/dictations").catch(() => null) : null;
    const resumable = new Set();
    for (const r of kept) {
      if (r.jobId) { resumable.add(r.jobId); send(r); continue; }
      if (!recorder) offerKept(r);
    }
    for (const job of (jobs && jobs.ok ? jobs.reply : [])) {
      if (resumable.has(job.id)) continue;
      const view = update(job);
      if (job.status === "uploading") offerPartial(view, job);
      if (["queued", "running"].includes(job.status)) follow(job, true);
    }
  }

  function offerPartial(view, job) {
    // The rest of the recording is not in this browser: transcribe what reached the server,
    // or drop it (the worker may record or choose the file again).
    const note = element("p", { class: "govuk-body-s" }, "This upload was interrupted: " + megabytes(job.received) +
      " reached the server, and this browser does not have the rest of the recording.");
    const group = element("div", { class: "govuk-button-group" });
    const use = element("button", { type: "button", class: "govuk-button govuk-!-margin-bottom-0" }, "Transcribe what arrived");
    const drop = element("button", { type: "button", class: "govuk-button govuk-button--secondary govuk-!-margin-bottom-0" }, "Discard it");
    use.addEventListener("click", async () => {
      const done = await api("POST", "/api/v1/dictations/" + job.id + "/complete").catch(() => null);
      if (done && done.ok) follow(done.reply, true); else say("It could not be sent for transcription just now; try again.");
    });
    drop.addEventListener("click", async () => {
      const stopped = await api("POST", "/api/v1/dictations/" + job.id + "/cancel").catch(() => null);
      if (stopped && stopped.ok) update(stopped.reply);
    });
    group.append(use, drop);
    view.outcome.replaceChildren(note, group);
  }

  function offerKept(r) {
    const box = element("div", { class: "govuk-inset-text" });
    const when = new Date(r.createdAt).toLocaleString("en-GB");
    box.append(element("p", { class: "govuk-body" }, "A recording from " + when + (r.seconds ? " (" + clock(r.seconds) + ")" : "") + " is kept in this browser but was not sent."));
    const go = element("button", { type: "button", class: "govuk-button govuk-!-margin-bottom-0" }, "Send it for transcription");
    const drop = element("button", { type: "button", class: "govuk-button govuk-button--secondary govuk-!-margin-bottom-0" }, "Discard it");
    go.addEventListener("click", () => { box.remove(); r.state = "ready"; send(r); });
    drop.addEventListener("click", () => { box.remove(); forget(r); say("The kept recording was discarded."); });
    const group = element("div", { class: "govuk-button-group" });
    group.append(go, drop);
    box.append(group);
    keptBox.append(box);
  }

  buttons.record.addEventListener("click", startRecording);
  buttons.pause.addEventListener("click", pauseRecording);
  buttons.stop.addEventListener("click", stopRecording);
  fileInput.addEventListener("change", chooseFile);
  window.addEventListener("beforeunload", (event) => { if (recorder) { event.preventDefault(); event.returnValue = ""; } });
  restore();
})();
