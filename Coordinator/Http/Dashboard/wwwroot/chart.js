// Hand-written SVG charts for the dashboard: a training curve (loss and val macro F1 per epoch) and a CI bar.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
  }

  // The training series among one lease's progress lines: lines with a loss or a val macro F1, of the (epoch, total) run
  // with the most such lines. A trainer's other lines are steps, not epochs: loading (0/0), KNN scoring (windows done / all,
  // no metrics), and the closing summary (1/1 "validation scored", "checkpoint written").
  function series(points) {
    const runs = new Map();
    for (const p of points) {
      if (p.epoch <= 0 || (p.loss === null && p.val_macro_f1 === null)) continue;
      (runs.get(p.total_epochs) || runs.set(p.total_epochs, []).get(p.total_epochs)).push(p);
    }
    let best = [];
    for (const [total, run] of runs) if (run.length > best.length || (run.length === best.length && total > (best[0] || {}).total_epochs)) best = run;
    // One point per epoch (the latest line of it): a trainer may report an epoch twice (e.g. scored, then saved).
    const byEpoch = new Map(best.map(p => [p.epoch, p]));
    return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  }

  // epochs: the series above. Loss on the left axis (0..max), val macro F1 on the right axis (0..1), epochs along x.
  function curve(epochs) {
    const W = 320, H = 150, L = 34, R = 30, T = 8, B = 22;
    const total = Math.max(1, ...epochs.map(p => p.total_epochs || p.epoch), ...epochs.map(p => p.epoch));
    const losses = epochs.map(p => p.loss).filter(v => v !== null && v !== undefined);
    const maxLoss = losses.length ? Math.max(...losses) * 1.1 || 1 : 1;
    const x = e => L + (total <= 1 ? (W - L - R) / 2 : ((e - 1) / (total - 1)) * (W - L - R));
    const yLoss = v => T + (1 - v / maxLoss) * (H - T - B);
    const yF1 = v => T + (1 - v) * (H - T - B);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "training curve", "data-points": epochs.length });
    for (let i = 0; i <= 4; i++) {
      const y = T + (i / 4) * (H - T - B);
      svg.appendChild(el("line", { class: "grid", x1: L, x2: W - R, y1: y, y2: y }));
      svg.appendChild(el("text", { x: L - 3, y: y + 3, "text-anchor": "end" }, fmt(maxLoss * (1 - i / 4))));
      svg.appendChild(el("text", { x: W - R + 3, y: y + 3 }, (1 - i / 4).toFixed(2)));
    }
    svg.appendChild(el("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
    svg.appendChild(el("line", { class: "axis", x1: W - R, x2: W - R, y1: T, y2: H - B }));
    svg.appendChild(el("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
    const ticks = Math.min(total, 6);
    for (let i = 0; i < ticks; i++) {
      const e = total <= 1 ? 1 : Math.round(1 + (i / Math.max(1, ticks - 1)) * (total - 1));
      svg.appendChild(el("text", { x: x(e), y: H - B + 11, "text-anchor": "middle" }, String(e)));
    }
    svg.appendChild(el("text", { x: (L + W - R) / 2, y: H - 2, "text-anchor": "middle" }, "epoch"));
    line(svg, epochs, "loss", p => p.loss, x, yLoss);
    line(svg, epochs, "f1", p => p.val_macro_f1, x, yF1);
    return svg;
  }

  function line(svg, epochs, cls, value, x, y) {
    const pts = epochs.filter(p => value(p) !== null && value(p) !== undefined).map(p => [x(p.epoch), y(value(p))]);
    if (pts.length === 0) return;
    if (pts.length > 1) svg.appendChild(el("polyline", { class: cls, points: pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ") }));
    const [lx, ly] = pts[pts.length - 1];
    svg.appendChild(el("circle", { class: cls, cx: lx.toFixed(1), cy: ly.toFixed(1), r: 2.5 }));
  }

  // A macro F1 with its CI on a 0..1 scale: a line from low to high and a dot at the value.
  function ciBar(value, low, high) {
    const W = 120, H = 14, pad = 4, sx = v => pad + Math.max(0, Math.min(1, v)) * (W - 2 * pad);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "ci-bar", role: "img",
      "aria-label": `macro F1 ${fmt(value)} [${fmt(low)}, ${fmt(high)}]` });
    svg.appendChild(el("line", { class: "grid", x1: pad, x2: W - pad, y1: H / 2, y2: H / 2 }));
    if (low !== null && high !== null && low !== undefined && high !== undefined)
      svg.appendChild(el("line", { class: "ci", x1: sx(low), x2: sx(high), y1: H / 2, y2: H / 2 }));
    if (value !== null && value !== undefined) svg.appendChild(el("circle", { class: "ci-point", cx: sx(value), cy: H / 2, r: 3 }));
    return svg;
  }

  window.Cis490Chart = { curve, series, ciBar, fmt };
})();
