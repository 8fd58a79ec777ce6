// lrcore explorer: the page. Every number comes from the server (lrcore.table);
// the page keeps the view's state in its URL (#...), so a link reproduces the view.
"use strict";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                 "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const state = { steps: 1000, log: false, lo: 0, hi: 1000, curves: [] };
let families = null, plot = null, hoverTimer = null, loading = 0;

const $ = (id) => document.getElementById(id);

async function api(path, params) {
  const url = path + "?" + new URLSearchParams(params).toString();
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(message) { $("error").textContent = message || ""; }

// -- the schedule list, from the declarations --------------------------------------
async function loadFamilies() {
  families = await api("/api/families", {});
  const select = $("family");
  for (const fw of families.frameworks) {
    const group = document.createElement("optgroup");
    group.label = fw.title;
    for (const s of fw.schedules) {
      const option = document.createElement("option");
      option.value = s.name;
      option.textContent = s.name;
      group.appendChild(option);
    }
    select.appendChild(group);
  }
  select.addEventListener("change", showFields);
  select.value = "cosine_annealing";
  showFields();
}

function schedule(name) {
  for (const fw of families.frameworks)
    for (const s of fw.schedules) if (s.name === name) return s;
  return null;
}

function showFields() {
  const s = schedule($("family").value);
  $("doc").textContent = s.doc;
  const fields = $("fields");
  fields.innerHTML = "";
  for (const p of s.params) {
    const label = document.createElement("label");
    label.textContent = p.name;
    const input = document.createElement("input");
    input.type = "text";
    input.name = p.name;
    input.dataset.default = p.default === null ? "" : p.default;
    input.value = p.default === null ? "" : p.default;
    input.placeholder = p.default === null ? "required" : "";
    label.appendChild(input);
    if (p.allowed) {
      const hint = document.createElement("small");
      hint.textContent = p.allowed;
      label.appendChild(hint);
    }
    fields.appendChild(label);
  }
}

function formText() {
  // the text form: required fields and those changed from their defaults
  const name = $("family").value;
  const args = [];
  for (const input of $("fields").querySelectorAll("input")) {
    const value = input.value.trim();
    if (value !== "" && value !== input.dataset.default) args.push(`${input.name}=${value}`);
  }
  return `${name}(${args.join(", ")})`;
}

// -- curves --------------------------------------------------------------------------
async function addCurve(text, base) {
  showError("");
  try {
    const info = await api("/api/check", { spec: text });
    const curve = { spec: info.text, base: info.absolute ? 1 : (base ?? 1), info };
    curve.colour = COLOURS[state.curves.length % COLOURS.length];
    await api("/api/envelope", { spec: curve.spec, steps: state.steps, base: curve.base, width: 1 });
    state.curves.push(curve);
    save();
    await redraw();
  } catch (err) {
    showError(err.message);
  }
}

function differing() {
  // the legend names only what differs: lrcore's brief form (parameters off their defaults)
  return state.curves.map((c) => c.info.brief);
}

function listCurves() {
  const list = $("curves");
  list.innerHTML = "";
  const labels = differing();
  state.curves.forEach((c, k) => {
    const item = document.createElement("li");
    item.style.borderColor = c.colour;
    item.dataset.spec = c.spec;
    const q = new URLSearchParams({ spec: c.spec, steps: state.steps, base: c.base }).toString();
    item.innerHTML = `
      <div class="row"><strong class="label"></strong></div>
      <div class="row"><label>base LR <input class="base" type="number" step="any" min="0"></label>
        <button class="remove" title="remove">remove</button></div>
      <div class="row">download:
        <a href="/api/export?${q}&format=csv">CSV</a>
        <a href="/api/export?${q}&format=npy">.npy</a>
        <a href="/api/export?${q}&format=json">JSON</a></div>
      <code class="text"></code><code class="lrsched"></code>`;
    item.querySelector(".label").textContent = labels[k];
    item.querySelector(".text").textContent = c.spec;
    item.querySelector(".lrsched").textContent = c.info.lrsched;
    const base = item.querySelector(".base");
    base.value = c.base;
    base.disabled = c.info.absolute;
    base.title = c.info.absolute ? "this schedule sets its own LRs" : "the LR it multiplies";
    base.addEventListener("change", async () => {
      const old = c.base;
      c.base = Number(base.value);
      try { await redraw(); save(); } catch (err) { c.base = old; showError(err.message); }
    });
    item.querySelector(".remove").addEventListener("click", () => {
      state.curves.splice(k, 1);
      save();
      redraw();
    });
    list.appendChild(item);
  });
}

// -- the plot ------------------------------------------------------------------------
function width() { return Math.max(300, $("view").clientWidth - 10); }

async function redraw() {
  listCurves();
  const w = width();
  const data = await Promise.all(state.curves.map((c) => api("/api/envelope", {
    spec: c.spec, steps: state.steps, base: c.base, lo: state.lo, hi: state.hi, width: w,
  })));
  // one x axis: the union of the columns' steps
  const xs = Array.from(new Set(data.flatMap((d) => d.x))).sort((a, b) => a - b);
  const columns = [xs];
  const series = [{ label: "step" }];
  const bands = [];
  const marks = new Set();
  data.forEach((d, k) => {
    const at = new Map(d.x.map((x, i) => [x, i]));
    const lo = xs.map((x) => (at.has(x) ? d.min[at.get(x)] : null));
    const hi = xs.map((x) => (at.has(x) ? d.max[at.get(x)] : null));
    const c = state.curves[k];
    columns.push(hi, lo);
    series.push({ label: d.brief + " (max)", stroke: c.colour, width: 1.5, spanGaps: true },
                { label: d.brief + " (min)", stroke: c.colour, width: 1.5, spanGaps: true });
    bands.push({ series: [2 * k + 1, 2 * k + 2], fill: c.colour + "33" });
    d.events.forEach((e) => marks.add(e));
  });
  const options = {
    width: w, height: 420, series, bands,
    legend: { show: false },
    scales: { x: { time: false }, y: { distr: state.log ? 3 : 1 } },
    axes: [{ label: "step" }, { label: "learning rate", size: 70 }],
    cursor: { drag: { x: true, y: false } },
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 2) return;
        const a = Math.max(0, Math.floor(u.posToVal(u.select.left, "x")));
        const b = Math.min(state.steps, Math.ceil(u.posToVal(u.select.left + u.select.width, "x")) + 1);
        if (b - a >= 2) { state.lo = a; state.hi = b; save(); redraw(); }
      }],
      setCursor: [(u) => hover(u)],
      draw: [(u) => drawMarks(u, marks)],
    },
  };
  if (plot) plot.destroy();
  $("plot").innerHTML = "";
  plot = new uPlot(options, columns, $("plot"));
  plot.over.addEventListener("dblclick", () => { state.lo = 0; state.hi = state.steps; save(); redraw(); });
  document.body.dataset.ready = String(++loading);
}

function drawMarks(u, marks) {
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = "#888";
  ctx.setLineDash([4, 4]);
  for (const e of marks) {
    const x = Math.round(u.valToPos(e, "x", true));
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}

function hover(u) {
  const left = u.cursor.left;
  if (left == null || left < 0 || !state.curves.length) return;
  const step = Math.min(state.steps - 1, Math.max(0, Math.round(u.posToVal(left, "x"))));
  clearTimeout(hoverTimer);
  hoverTimer = setTimeout(async () => {
    try {
      const values = await Promise.all(state.curves.map((c) =>
        api("/api/at", { spec: c.spec, steps: state.steps, base: c.base, step })));
      const labels = differing();
      $("hover").textContent = `step ${step}\n` +
        values.map((v, k) => `${labels[k]}: ${v.repr}`).join("\n");
      $("hover").dataset.step = String(step);
    } catch (err) { showError(err.message); }
  }, 40);
}

// -- the URL holds the view ------------------------------------------------------------
function save() {
  const view = { steps: state.steps, log: state.log, lo: state.lo, hi: state.hi,
                 curves: state.curves.map((c) => ({ spec: c.spec, base: c.base })) };
  history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(view)));
}

async function restore() {
  if (location.hash.length < 2) return;
  let view;
  try { view = JSON.parse(decodeURIComponent(location.hash.slice(1))); } catch (err) {
    showError("the link's view could not be read"); return;
  }
  state.steps = view.steps || 1000;
  state.log = !!view.log;
  state.lo = view.lo || 0;
  state.hi = view.hi || state.steps;
  $("steps").value = state.steps;
  $("log").checked = state.log;
  for (const c of view.curves || []) {
    try {
      const info = await api("/api/check", { spec: c.spec });
      state.curves.push({ spec: info.text, base: c.base, info,
                          colour: COLOURS[state.curves.length % COLOURS.length] });
    } catch (err) { showError(err.message); }
  }
}

// -- controls ----------------------------------------------------------------------------
function pan(direction) {
  const span = state.hi - state.lo;
  const shift = Math.max(1, Math.round(span / 2)) * direction;
  state.lo = Math.min(Math.max(0, state.lo + shift), state.steps - span);
  state.hi = state.lo + span;
  save();
  redraw();
}

async function main() {
  await loadFamilies();
  await restore();
  $("add-form").addEventListener("click", () => addCurve(formText(), 1));
  $("add-text").addEventListener("click", () => addCurve($("spec-text").value, 1));
  $("spec-text").addEventListener("keydown", (e) => { if (e.key === "Enter") addCurve($("spec-text").value, 1); });
  $("steps").addEventListener("change", async () => {
    const n = Number($("steps").value);
    if (!Number.isInteger(n) || n < 1 || n > families.max_steps) {
      showError(`steps must be a whole number from 1 to ${families.max_steps.toLocaleString("en")}`);
      return;
    }
    showError("");
    state.steps = n; state.lo = 0; state.hi = n;
    save();
    try { await redraw(); } catch (err) { showError(err.message); }
  });
  $("log").addEventListener("change", () => { state.log = $("log").checked; save(); redraw(); });
  $("pan-left").addEventListener("click", () => pan(-1));
  $("pan-right").addEventListener("click", () => pan(1));
  $("reset").addEventListener("click", () => { state.lo = 0; state.hi = state.steps; save(); redraw(); });
  $("zoom-out").addEventListener("click", () => {
    const span = state.hi - state.lo, mid = (state.hi + state.lo) / 2;
    state.lo = Math.max(0, Math.floor(mid - span));
    state.hi = Math.min(state.steps, Math.ceil(mid + span));
    save(); redraw();
  });
  try { await redraw(); } catch (err) { showError(err.message); }
}

main();
