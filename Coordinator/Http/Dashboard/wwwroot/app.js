// The cluster dashboard: one EventSource on /api/events (the server pushes snapshots and progress lines), tables and SVG
// curves drawn from them, and cancel / requeue through the JSON API with the operator token kept in sessionStorage.
"use strict";
(function () {
  const TOKEN_KEY = "cis490.operatorToken";
  const MAX_FINISHED_CURVES = 12;
  const ARM_MS = 5000;
  const { curve, series, ciBar, fmt } = window.Cis490Chart;
  const state = { snap: null, curves: {}, gone: { members: new Map(), workers: new Map() }, prev: { members: new Map(), workers: new Map() }, lastEvent: 0 };
  const $ = id => document.getElementById(id);

  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const badge = (text, cls) => h("span", { class: `badge ${cls || text}` }, text);
  const short = id => (id || "").slice(0, 12);
  const ago = t => { const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000)); return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`; };
  const bytes = n => n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
  const live = s => s === "leased" || s === "running";

  // ---- connection --------------------------------------------------------------------------------------------------
  function setConn(kind, text) {
    const c = $("conn");
    c.className = `conn ${kind}`;
    c.dataset.state = kind;
    c.textContent = text;
  }

  function connect() {
    const es = new EventSource("/api/events");
    es.onopen = () => setConn("live", "live");
    es.onerror = () => {
      // EventSource retries by itself (the server's retry: hint); a CLOSED one (an answer that was not a stream) we reopen.
      setConn("reconnecting", "reconnecting…");
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
    es.addEventListener("snapshot", e => { setConn("live", "live"); onSnapshot(JSON.parse(e.data)); });
    es.addEventListener("tick", e => { setConn("live", "live"); touched(JSON.parse(e.data).at); });
    es.addEventListener("curves", e => { state.curves = JSON.parse(e.data); renderCurves(); });
    es.addEventListener("progress", e => {
      for (const [id, points] of Object.entries(JSON.parse(e.data))) (state.curves[id] ||= []).push(...points);
      renderCurves();
    });
    es.addEventListener("coordinator", e => setConn("unreachable", `coordinator not answering: ${JSON.parse(e.data).error}`));
  }

  function touched(at) {
    state.lastEvent = Date.now();
    $("updated").textContent = `updated ${new Date(at).toLocaleTimeString()}`;
    if (state.snap) { renderWorkers(); renderMembers(); }
  }

  function onSnapshot(snap) {
    state.snap = snap;
    trackGone("members", snap.members, m => m.address, snap.gone_linger_ms);
    trackGone("workers", snap.workers, w => w.worker_id, snap.gone_linger_ms);
    touched(snap.at);
    renderCounts();
    renderJobs();
    renderCurves();
    renderArtifacts();
    renderEvaluation();
  }

  // A member or worker that vanished stays, greyed, for gone_linger_ms, then disappears.
  function trackGone(kind, items, key, linger) {
    const now = Date.now(), current = new Map(items.map(i => [key(i), i]));
    for (const [k, item] of state.prev[kind]) if (!current.has(k) && !state.gone[kind].has(k)) state.gone[kind].set(k, { item, since: now });
    for (const k of current.keys()) state.gone[kind].delete(k);
    for (const [k, g] of state.gone[kind]) if (now - g.since > linger) state.gone[kind].delete(k);
    state.prev[kind] = current;
  }

  // ---- tables --------------------------------------------------------------------------------------------------------
  function fill(tableId, rows, emptyText) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren(...(rows.length ? rows : [h("tr", { class: "empty" }, h("td", { colspan: $(tableId).tHead.rows[0].cells.length, class: "muted" }, emptyText))]));
  }

  function renderCounts() {
    const s = state.snap, counts = Object.entries(s.job_counts || {}).filter(([, n]) => n > 0);
    $("counts").replaceChildren(
      h("span", { class: "count" }, `${s.members.length} member(s)`),
      h("span", { class: "count" }, `${s.workers.length} worker(s), ${s.workers.reduce((n, w) => n + w.slots, 0)} slot(s)`),
      h("span", { class: "count", title: "the page shows the oldest rows of each status; all of them: /api/jobs?limit=N&after=CURSOR" },
        s.jobs_total > s.jobs.length ? `${s.jobs.length} of ${s.jobs_total} job(s) shown` : `${s.jobs.length} job(s)`),
      ...counts.map(([k, n]) => h("span", { class: "count", "data-status": k }, badge(k), ` ${n}`)));
  }

  function renderMembers() {
    const s = state.snap;
    $("leader").textContent = s.leader ? `leader ${s.leader}` : "";
    const rows = s.members.map(m => {
      const st = m.reachable ? m.status : "unreachable";
      const grey = !m.reachable || ["leaving", "exiting", "down", "removed"].includes(m.status);
      return h("tr", { class: grey ? "grey" : "", "data-address": m.address, "data-state": st },
        h("td", { class: "mono" }, m.address), h("td", {}, badge(st), m.reachable ? "" : ` (${m.status})`),
        h("td", {}, m.roles.join(", ")), h("td", { class: "muted" }, m.is_oldest ? "oldest (singleton host)" : ""));
    });
    for (const [addr, g] of state.gone.members)
      rows.push(h("tr", { class: "gone", "data-address": addr, "data-state": "removed" }, h("td", { class: "mono" }, addr), h("td", {}, badge("removed")),
        h("td", {}, g.item.roles.join(", ")), h("td", { class: "muted" }, `left ${ago(new Date(g.since).toISOString())}`)));
    fill("members", rows, "no members (the coordinator is not in a cluster?)");
  }

  // Families and engines come from the worker's self-test; a worker that did not say (an earlier-fleet /v1 worker) is assumed to run all.
  function capability(c) {
    const missing = Object.entries(c.unavailable || {});
    return [
      `${c.hostname}: ${c.cores} cores, ${c.ram_gib.toFixed(1)} GiB` + (c.cuda ? `, CUDA ${c.cuda_device || ""} ${c.vram_gib.toFixed(1)} GiB` : ", no CUDA") +
        (c.torch_version ? `, torch ${c.torch_version}` : "") + (c.xgboost_version ? `, xgboost ${c.xgboost_version}` : "") +
        (c.git_commit ? `, ${c.git_commit.slice(0, 8)}` : ""),
      h("div", { class: "muted", "data-families": "" }, c.families ? `families: ${c.families.join(", ")}` : "families: all (not self-tested)"),
      ...missing.map(([f, why]) => h("div", { class: "muted", "data-unavailable": f }, `cannot train ${f}: ${why}`)),
      !c.cuda && c.cuda_note ? h("div", { class: "muted", "data-cuda-note": "" }, `cuda: false (${c.cuda_note})`) : "",
    ];
  }

  function renderWorkers() {
    const rows = state.snap.workers.map(w => h("tr", { "data-worker-id": w.worker_id, class: w.draining ? "grey" : "" },
      h("td", {}, w.worker_id, w.draining ? [" ", badge("draining", "leaving")] : ""), h("td", { class: "wrap" }, capability(w.capability)),
      h("td", {}, String(w.slots)), h("td", { class: "mono" }, w.running_job_ids.map(short).join(", ") || h("span", { class: "muted" }, "idle")),
      h("td", {}, ago(w.last_seen))));
    for (const [id, g] of state.gone.workers)
      rows.push(h("tr", { class: "gone", "data-worker-id": id }, h("td", {}, id, " ", badge("gone", "removed")), h("td", { class: "wrap" }, capability(g.item.capability)),
        h("td", {}, String(g.item.slots)), h("td", {}, ""), h("td", {}, `gone ${ago(new Date(g.since).toISOString())}`)));
    fill("workers", rows, "no workers registered");
  }

  function progressCell(j) {
    const p = j.progress;
    if (j.status === "completed") {
      const full = h("span");
      full.style.width = "100%";
      return h("td", {}, h("span", { class: "bar done", "data-pct": "100" }, full), h("span", { class: "bar-label" }, "done"));
    }
    if (!p || !p.total_epochs) return h("td", { class: "muted" }, live(j.status) ? (p ? p.message || "started" : "starting") : "");
    const pct = Math.max(0, Math.min(100, (100 * p.epoch) / p.total_epochs));
    const fillBar = h("span");
    fillBar.style.width = `${pct}%`;
    return h("td", {}, h("span", { class: "bar", "data-pct": pct.toFixed(0) }, fillBar),
      h("span", { class: "bar-label" }, `${p.epoch}/${p.total_epochs}` + (p.loss !== null ? ` loss ${fmt(p.loss)}` : "") + (p.val_macro_f1 !== null ? ` F1 ${fmt(p.val_macro_f1)}` : "")));
  }

  function notes(j) {
    const n = (state.snap.notes || {})[j.job_id], parts = [];
    if (j.metrics && j.metrics.val_macro_f1 !== undefined) parts.push(h("span", {}, `val F1 ${fmt(j.metrics.val_macro_f1)}`));
    if (n && n.unschedulable) parts.push(h("span", { class: "note unschedulable" }, `unschedulable: ${n.unschedulable}`));
    if (n && n.retry_at) parts.push(h("span", { class: "note" }, `retry at ${new Date(n.retry_at).toLocaleTimeString()}`));
    if (j.last_error && j.status !== "completed") parts.push(h("span", { class: "note", title: j.last_error }, j.last_error.length > 80 ? j.last_error.slice(0, 80) + "…" : j.last_error));
    return h("td", { class: "wrap" }, ...parts.flatMap((p, i) => (i ? [" · ", p] : [p])));
  }

  function actionButton(j, action) {
    const token = sessionStorage.getItem(TOKEN_KEY), isArmed = action === "cancel" && (armed.get(j.job_id) || 0) > Date.now();
    return h("button", { type: "button", class: `act ${action}`, "data-action": action, "data-job-id": j.job_id, "data-armed": isArmed ? "1" : null, disabled: !token,
      title: token ? `${action} ${j.job_id}` : "paste the operator token (top right) to enable", onclick: () => confirmThen(j.job_id, action) },
      isArmed ? "confirm cancel?" : action);
  }

  function renderJobs() {
    const rows = state.snap.jobs.map(j => h("tr", { "data-job-id": j.job_id, "data-status": j.status },
      h("td", { class: "mono", title: j.job_id }, short(j.job_id)), h("td", {}, j.model), h("td", {}, j.mode), h("td", {}, badge(j.status)),
      h("td", {}, j.worker_id || ""), h("td", {}, `${j.failed_attempts}/${j.max_attempts}`), progressCell(j), notes(j),
      h("td", {}, h("span", { class: "actions" },
        ["pending", "leased", "running"].includes(j.status) ? actionButton(j, "cancel") : null,
        ["failed", "cancelled"].includes(j.status) ? actionButton(j, "requeue") : null))));
    fill("jobs", rows, "no jobs: submit a manifest (./cis490 manifest submit FILE)");
  }

  function renderCurves() {
    if (!state.snap) return;
    const jobs = new Map(state.snap.jobs.map(j => [j.job_id, j]));
    // Each job's curve is the training series of its latest lease (a requeued job starts a new one).
    const curves = new Map();
    for (const [id, points] of Object.entries(state.curves)) {
      if (!jobs.has(id) || points.length === 0) continue;
      const lease = Math.max(...points.map(p => p.lease_id));
      curves.set(id, series(points.filter(p => p.lease_id === lease)));
    }
    // Running jobs with at least one epoch, then the most recently finished ones with a curve (two epochs or more).
    const running = [...curves.keys()].filter(id => live(jobs.get(id).status) && curves.get(id).length > 0);
    const finished = [...curves.keys()].filter(id => !live(jobs.get(id).status) && curves.get(id).length > 1)
      .sort((a, b) => Date.parse(jobs.get(b).finished_at || 0) - Date.parse(jobs.get(a).finished_at || 0)).slice(0, MAX_FINISHED_CURVES);
    const cards = [...running, ...finished].map(id => {
      const j = jobs.get(id), epochs = curves.get(id), last = epochs[epochs.length - 1];
      return h("div", { class: "curve", "data-job-id": id, "data-status": j.status },
        h("h3", {}, `${j.model} · ${j.mode} · `, h("span", { class: "mono" }, short(id)), " ", badge(j.status)),
        curve(epochs),
        h("div", { class: "muted" }, `epoch ${last.epoch}/${last.total_epochs} · loss ${fmt(last.loss)} · val macro F1 ${fmt(last.val_macro_f1)}`));
    });
    $("curves").replaceChildren(...(cards.length ? cards : [h("p", { class: "muted empty" }, "No training progress yet: curves appear as neural jobs report epochs.")]));
  }

  function renderArtifacts() {
    const rows = state.snap.artifacts.map(a => h("tr", { "data-sha": a.sha256 },
      h("td", { class: "mono" }, h("a", { href: `/api/artifacts/${a.sha256}`, title: a.sha256 }, a.sha256.slice(0, 16))), h("td", {}, a.model), h("td", {}, a.mode),
      h("td", { class: "mono" }, short(a.job_id)), h("td", {}, bytes(a.bytes)), h("td", {}, new Date(a.stored_at).toLocaleString())));
    fill("artifacts", rows, "no artifacts stored yet");
  }

  function renderEvaluation() {
    const ev = state.snap.evaluation, box = $("evaluation");
    if (!ev) { box.replaceChildren(h("p", { class: "muted empty" }, "No evaluation yet (./cis490 eval writes it; the demo runs it after training).")); return; }
    const groups = new Map();
    for (const m of ev.models) (groups.get(m.group) || groups.set(m.group, []).get(m.group)).push(m);
    box.replaceChildren(
      h("p", { class: "muted" }, `test macro F1 with 95 % bootstrap CI (resampling ${ev.resample || "?"}), ${new Date(ev.updated_at).toLocaleString()}` + (ev.report ? ` · ${ev.report}` : "")),
      ...[...groups].map(([group, models]) => h("div", { class: "eval-group" }, h("h3", {}, group),
        h("table", { class: "eval", "data-group": group }, h("thead", {}, h("tr", {}, ["model", "mode", "test macro F1 [95 % CI]", "", "val F1", "test windows"].map(t => h("th", {}, t)))),
          h("tbody", {}, models.map(m => h("tr", { "data-model": m.name, "data-mode": m.mode },
            h("td", { title: m.hyper }, m.name), h("td", {}, m.mode), h("td", {}, `${fmt(m.test_macro_f1)} [${fmt(m.low)}, ${fmt(m.high)}]`),
            h("td", {}, ciBar(m.test_macro_f1, m.low, m.high)), h("td", {}, fmt(m.val_macro_f1)), h("td", {}, String(m.test_windows)))))))),
      ...ev.problems.map(p => h("p", { class: "note" }, `unreadable: ${p}`)));
  }

  // ---- operator actions ----------------------------------------------------------------------------------------------
  function notice(kind, text) {
    const n = $("notice");
    n.hidden = false;
    n.className = kind;
    n.dataset.kind = kind;
    n.textContent = text;
  }

  // Cancel asks twice: the first click arms the job's button for a few seconds. Kept by job id, not on the button, because
  // every snapshot redraws the table.
  const armed = new Map();
  function confirmThen(jobId, action) {
    if (action === "cancel" && !((armed.get(jobId) || 0) > Date.now())) {
      armed.set(jobId, Date.now() + ARM_MS);
      renderJobs();
      setTimeout(() => { armed.delete(jobId); if (state.snap) renderJobs(); }, ARM_MS);
      return;
    }
    armed.delete(jobId);
    act(jobId, action);
  }

  async function act(jobId, action) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) { notice("error", `${action} needs the operator token: paste it in the box at the top right`); return; }
    let response, body = null;
    try {
      response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/${action}`, {
        method: "POST",
        headers: action === "cancel" ? { "X-Operator-Token": token, "Content-Type": "application/json" } : { "X-Operator-Token": token },
        body: action === "cancel" ? JSON.stringify({ reason: "cancelled from the dashboard" }) : undefined,
      });
      body = await response.json().catch(() => null);
    } catch (e) {
      notice("error", `${action} ${short(jobId)}: the coordinator could not be reached (${e.message}); try again`);
      return;
    }
    if (response.ok) { notice("ok", `${action} ${short(jobId)}: ${body && body.message ? body.message : "done"}`); return; }
    const why = body && body.error ? body.error : `HTTP ${response.status}`;
    notice("error", `${action} ${short(jobId)} refused (HTTP ${response.status}): ${why}`);
    if (response.status === 401 || response.status === 403) $("token-state").textContent = "token refused";
  }

  function tokenChanged() {
    $("token-state").textContent = sessionStorage.getItem(TOKEN_KEY) ? "token set (this tab only)" : "read-only";
    if (state.snap) renderJobs();
  }

  function setupToken() {
    $("token-form").addEventListener("submit", e => {
      e.preventDefault();
      const v = $("token").value.trim();
      if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
      $("token").value = "";
      tokenChanged();
    });
    $("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); $("token").value = ""; tokenChanged(); });
    tokenChanged();
  }

  setupToken();
  connect();
  // Relative times ("3 s ago") and a silent feed: a connection with no event for 5 s is not called live.
  setInterval(() => {
    if (state.lastEvent && Date.now() - state.lastEvent > 5000 && $("conn").dataset.state === "live") setConn("reconnecting", "no events; reconnecting…");
  }, 1000);
})();
