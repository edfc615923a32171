// Episode replay: one test episode of a saved prediction run (eval's NAME_predictions.csv, served by /api/replay), played at
// a chosen speed: the true phase against the model's predicted phase over time, and the model's class probabilities.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const TICK_MS = 50;
  const COLORS = ["#2e7d32", "#f2a900", "#e8590c", "#b71c1c", "#6a1b9a", "#1f6fb2"];
  const $ = id => document.getElementById(id);
  const st = { runs: [], view: null, clock: 0, timer: null, shownFor: "" };

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function option(value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; return o; }

  function setState(s, text) { $("replay").dataset.state = s; if (text !== undefined) $("replay-status").textContent = text; }

  async function loadRuns() {
    let body;
    try {
      const r = await fetch("/api/replay");
      body = await r.json();
      if (!r.ok) throw new Error(body.message || `HTTP ${r.status}`);
    } catch (e) { setState("error", `cannot list prediction runs: ${e.message}`); return; }
    st.runs = body.runs;
    const key = st.runs.map(r => r.name).join("|");
    if (key === st.shownFor) return;
    st.shownFor = key;
    const sel = $("replay-run");
    const keep = sel.value;
    sel.replaceChildren(...st.runs.map(r => option(r.name, `${r.name} (${r.episodes.length} episodes)`)));
    if (st.runs.some(r => r.name === keep)) sel.value = keep;
    $("replay-problems").textContent = body.problems.length ? `unreadable: ${body.problems.join("; ")}` : "";
    if (st.runs.length === 0) { setState("empty", `No prediction runs in ${body.dir} yet: ./cis490 eval writes NAME_predictions.csv there.`); return; }
    fillEpisodes();
  }

  function fillEpisodes() {
    const run = st.runs.find(r => r.name === $("replay-run").value);
    const sel = $("replay-episode"), keep = sel.value;
    sel.replaceChildren(...(run ? run.episodes : []).map(e =>
      option(e.episode_id, `${e.episode_id} · ${e.host} · ${e.profile} · ${e.windows} windows, ${e.correct} right`)));
    if (run && run.episodes.some(e => e.episode_id === keep)) sel.value = keep;
    setState("ready", "Choose a model and an episode, then play.");
  }

  async function play() {
    if (st.timer) { clearInterval(st.timer); st.timer = null; setState("paused", $("replay-status").textContent); $("replay-play").textContent = "Play"; return; }
    const name = $("replay-run").value, episode = $("replay-episode").value;
    if (!name || !episode) return;
    if (!st.view || st.view.name !== name || st.view.episode_id !== episode || st.clock >= last()) {
      const r = await fetch(`/api/replay/${encodeURIComponent(name)}/${encodeURIComponent(episode)}`);
      const body = await r.json();
      if (!r.ok) { setState("error", body.message || `HTTP ${r.status}`); return; }
      st.view = body;
      st.clock = 0;
    }
    $("replay-play").textContent = "Pause";
    setState("playing");
    st.timer = setInterval(step, TICK_MS);
    step();
  }

  const last = () => st.view && st.view.windows.length ? st.view.windows[st.view.windows.length - 1].t : 0;

  function step() {
    draw();
    if (st.clock >= last()) {
      clearInterval(st.timer); st.timer = null;
      $("replay-play").textContent = "Play";
      setState("done");
      return;
    }
    st.clock = Math.min(last(), st.clock + Number($("replay-speed").value) * TICK_MS / 1000);
  }

  function draw() {
    const v = st.view, shown = v.windows.filter(w => w.t <= st.clock + 1e-9), n = v.classes.length;
    const W = 1000, L = 120, R = 20, bandH = 22, probTop = 78, probH = 150, H = probTop + probH + 28;
    const span = Math.max(1, last()), stride = v.windows.length > 1 ? v.windows[1].t - v.windows[0].t : 10;
    const x = t => L + (t / (span + stride)) * (W - L - R);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "replay-chart", role: "img", "data-shown": shown.length,
      "aria-label": `episode ${v.episode_id}: ${shown.length} of ${v.windows.length} windows` });
    const color = c => COLORS[v.classes.indexOf(c) % COLORS.length] || "#999";
    [["true phase", 8], ["predicted", 8 + bandH + 8]].forEach(([label, y], row) => {
      svg.appendChild(el("text", { x: L - 8, y: y + 15, "text-anchor": "end", class: "replay-label" }, label));
      for (const w of shown) {
        const c = row === 0 ? w.true : w.predicted;
        svg.appendChild(el("rect", { x: x(w.t).toFixed(1), y, width: Math.max(1, x(w.t + stride) - x(w.t)).toFixed(1), height: bandH,
          fill: color(c), class: row === 0 ? "true" : "predicted" + (w.predicted === w.true ? "" : " wrong") }, undefined));
      }
    });
    svg.appendChild(el("text", { x: L - 8, y: probTop + 12, "text-anchor": "end", class: "replay-label" }, "probability"));
    svg.appendChild(el("line", { class: "grid", x1: L, x2: W - R, y1: probTop + probH, y2: probTop + probH }));
    svg.appendChild(el("line", { class: "grid", x1: L, x2: W - R, y1: probTop, y2: probTop }));
    const y = p => probTop + (1 - p) * probH;
    for (let k = 0; k < n; k++) {
      const pts = shown.map(w => `${x(w.t + stride / 2).toFixed(1)},${y(w.p[k]).toFixed(1)}`).join(" ");
      if (shown.length > 1) svg.appendChild(el("polyline", { points: pts, fill: "none", stroke: COLORS[k % COLORS.length], "stroke-width": 2, class: "prob" }));
    }
    for (let t = 0; t <= span + stride; t += niceStep(span)) {
      svg.appendChild(el("text", { x: x(t).toFixed(1), y: H - 8, "text-anchor": "middle", class: "replay-label" }, `${Math.round(t)} s`));
    }
    svg.appendChild(el("line", { class: "cursor", x1: x(st.clock + stride), x2: x(st.clock + stride), y1: 4, y2: probTop + probH }));
    // Colours go through the CSSOM (style.setProperty): the page's Content-Security-Policy refuses inline style attributes.
    $("replay-legend").replaceChildren(...v.classes.flatMap((c, k) => [chip("key", "", COLORS[k % COLORS.length]), document.createTextNode(` ${c} `)]));
    $("replay-chart").replaceChildren(svg);
    const now = shown[shown.length - 1];
    if (now) {
      const right = shown.filter(w => w.true === w.predicted).length;
      $("replay-status").textContent = `${v.episode_id} (${v.host}, ${v.profile}) · t = ${Math.round(now.t)} s of ${Math.round(span)} s · ` +
        `window ${shown.length}/${v.windows.length} · true ${now.true}, predicted ${now.predicted} (p ${Math.max(...now.p).toFixed(2)}) · ${right}/${shown.length} right so far`;
      $("replay-bars").replaceChildren(...v.classes.map((c, k) => {
        const row = document.createElement("div");
        row.className = "replay-bar";
        row.dataset.class = c;
        const bar = chip("bar", "", COLORS[k % COLORS.length]);
        bar.style.setProperty("--w", `${(now.p[k] * 100).toFixed(1)}%`);
        row.append(chip("name", c), bar, chip("value", now.p[k].toFixed(3)));
        return row;
      }));
    }
  }

  function chip(cls, text, color) {
    const e = document.createElement("span");
    e.className = cls;
    e.textContent = text;
    if (color) e.style.setProperty("--c", color);
    return e;
  }

  function niceStep(span) { for (const s of [10, 30, 60, 120, 300, 600, 1800, 3600]) if (span / s <= 10) return s; return 7200; }

  $("replay-run").addEventListener("change", () => { fillEpisodes(); st.view = null; });
  $("replay-episode").addEventListener("change", () => { st.view = null; });
  $("replay-play").addEventListener("click", play);
  $("replay-refresh").addEventListener("click", () => { st.shownFor = ""; loadRuns(); });
  loadRuns();
  // New runs appear when eval writes them: look again now and then while nothing plays.
  setInterval(() => { if (!st.timer) loadRuns(); }, 5000);
})();
