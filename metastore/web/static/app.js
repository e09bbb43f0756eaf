// metastore serve: the page. Plain JS, no build step, no network beyond this server.
// State lives in the URL (?q=&sort=&page=&open=&cols=&facets=) so views bookmark and
// back/forward work; every number and error comes from the JSON API (docs/serve.md).
"use strict";

const $ = (sel) => document.querySelector(sel);
const TOKEN = document.querySelector('meta[name="metastore-token"]').content;
const PAGE = 100;
let info = null;                 // /api/info
let infoReady = null;            // its promise (the first page is asked for at the same time)
let state = {q: "", sort: "", page: 0, after: "", open: "", cols: [], facets: null};
// A page starts after the last image of the one before (?after=): page 5,000 of a million comes as
// fast as page 2, where an offset that deep makes the catalog sort every match. Sorted by a key,
// "after" costs a scan (~0.15 s on 1M) that a shallow offset does not, so it is asked only from
// offset DEEP on (DuckDB keeps only the top rows up to ~5,000). starts remembers where each page
// began, for Prev.
let starts = {};
const DEEP = 4000;
const pathOrder = () => ["", "path", "path:asc", "path:desc"].includes(state.sort);
const startKey = (page) => `${state.q}\x1f${state.sort}\x1f${page}`;
let results = {rows: [], count: null, more: false, offset: 0};  // count: null until /api/count answers
let counted = {n: 0, count: null};  // the latest result count and the load it belongs to
let selected = -1;               // index of the selected tile
let comp = {items: [], sel: -1, start: 0, cursor: 0};
let timers = {};
let seq = {count: 0, complete: 0, load: 0, preview: 0};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
  const res = await fetch(url);
  const data = await res.json();
  if (!res.ok) throw data.error || {message: res.statusText};
  return data;
}

async function post(path, body) {
  const res = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Metastore-Token": TOKEN},
                                 body: JSON.stringify(body)});
  const data = await res.json();
  if (!res.ok) throw data.error || {message: res.statusText};
  return data;
}

function debounce(name, ms, fn) { clearTimeout(timers[name]); timers[name] = setTimeout(fn, ms); }
const fmt = (n) => Number(n).toLocaleString("en-US");
const thumbUrl = (path, size) => `/api/thumb?size=${size}&path=${encodeURIComponent(path)}`;

// ---------------------------------------------------------------- URL state
function readState() {
  const p = new URLSearchParams(location.search);
  state = {q: p.get("q") || "", sort: p.get("sort") || "", page: Math.max(0, parseInt(p.get("page") || "0", 10) || 0),
           after: p.get("after") || "",
           open: p.get("open") || "", cols: (p.get("cols") || "").split(",").filter(Boolean),
           facets: p.has("facets") ? p.get("facets").split(",").filter(Boolean) : null};
}

function writeState(push) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.sort) p.set("sort", state.sort);
  if (state.page) p.set("page", state.page);
  if (state.after) p.set("after", state.after);
  if (state.cols.length) p.set("cols", state.cols.join(","));
  if (state.facets) p.set("facets", state.facets.join(","));
  if (state.open) p.set("open", state.open);
  const url = "?" + p.toString();
  if (url === location.search || (url === "?" && !location.search)) return;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

function facetKeys() { return state.facets || (info ? info.facets : []); }

// ---------------------------------------------------------------- query errors
function showError(err, text) {
  const box = $("#qerror");
  box.replaceChildren();
  if (!err) { box.hidden = true; $("#q").classList.remove("bad"); return; }
  $("#q").classList.add("bad");
  const issues = err.errors || [err];
  for (const is of issues) {
    if (is.start !== undefined && is.start !== null) {
      const s = Math.max(0, Math.min(is.start, text.length));
      const e = Math.max(s + 1, Math.min(is.end, text.length));
      const span = text.slice(s, e) || " ";
      box.append(el("div", {class: "qline"}, text.slice(0, s), el("span", {class: "qerr-span"}, span), text.slice(e)));
    }
    box.append(el("div", {class: "msg"}, "error: " + is.message));
    if (is.help) box.append(el("div", {class: "help"}, "help: " + is.help));
  }
  box.hidden = false;
}

// ---------------------------------------------------------------- live count and completion
const images = (n) => `${fmt(n)} image${n === 1 ? "" : "s"}`;

async function liveCount() {
  const text = $("#q").value, n = ++seq.count;
  try {
    const r = await api("/api/count", {q: text});
    if (n !== seq.count) return;
    $("#count").textContent = images(r.count);
    showError(null);
  } catch (err) {
    if (n !== seq.count) return;
    $("#count").textContent = "—";
    showError(err, text);
  }
}

// The count of the results shown: asked for beside the page (it scans every match, the page
// only the first ones), so the grid never waits for it; the pager learns the page total from it.
async function resultCount(q, n) {
  const c = ++seq.count;
  $("#count").textContent = "counting…";
  let r;
  try { r = await api("/api/count", {q: q}); } catch (err) {  // the search shows why
    if (n === seq.load && c === seq.count) $("#count").textContent = "—";
    return;
  }
  if (n !== seq.load) return;
  counted = {n: n, count: r.count};
  if (c === seq.count) $("#count").textContent = images(r.count);
  if (results.n !== n) return;  // the page is not there yet: it takes the count when it comes
  results.count = r.count;
  $("#grid").dataset.count = r.count;
  renderPager();
}

async function complete() {
  const input = $("#q"), text = input.value, cursor = input.selectionStart, n = ++seq.complete;
  let r;
  try { r = await api("/api/complete", {q: text, cursor: cursor, limit: 30}); } catch (err) { return; }
  if (n !== seq.complete || document.activeElement !== input) return;
  comp = {items: r.candidates, sel: -1, start: r.start, cursor: r.cursor};
  const hint = $("#hint");
  hint.hidden = !r.hint; hint.textContent = r.hint || "";
  renderCompletions();
}

function renderCompletions() {
  const ul = $("#completions");
  ul.replaceChildren(...comp.items.map((c, i) => el("li", {class: i === comp.sel ? "sel" : "", role: "option",
      "data-i": i, onmousedown: (ev) => { ev.preventDefault(); accept(i); }},
    el("span", {class: "text"}, c.display), el("span", {class: "meta"}, c.meta))));
  ul.hidden = comp.items.length === 0;
  const sel = ul.querySelector("li.sel");
  if (sel) sel.scrollIntoView({block: "nearest"});
}

function closeCompletions() { comp.items = []; comp.sel = -1; $("#completions").hidden = true; }

function accept(i) {
  const c = comp.items[i], input = $("#q");
  if (!c) return;
  const text = input.value;
  input.value = text.slice(0, comp.start) + c.text + text.slice(comp.cursor);
  const pos = comp.start + c.text.length;
  input.setSelectionRange(pos, pos);
  closeCompletions();
  input.focus();
  debounce("complete", 10, complete);
  debounce("count", 60, liveCount);
}

function submitQuery() {
  closeCompletions();
  state.q = $("#q").value;
  firstPage();
  state.open = "";
  writeState(true);
  load();
}

function firstPage() { state.page = 0; state.after = ""; }

function addClause(clause) {
  let q = state.q.trim();
  if (/\bOR\b/.test(q)) q = `(${q})`;
  state.q = q ? `${q} ${clause}` : clause;
  firstPage();
  writeState(true);
  load();
}

// ---------------------------------------------------------------- results, facets
async function load(detail = true) {
  const n = ++seq.load;
  $("#q").value = state.q;
  $("#cols").value = state.cols.join(",");
  if (info) syncSort();
  const q = state.q;
  const after = pathOrder() || state.page * PAGE >= DEEP ? state.after : "";
  const page = api("/api/search", {q: q, sort: state.sort, after: after, offset: after ? 0 : state.page * PAGE, limit: PAGE,
                                   columns: state.cols.join(",")});
  resultCount(q, n);
  let res;
  try {
    res = await page;
    await infoReady;
  } catch (err) {
    if (n !== seq.load) return;
    if (after) {  // e.g. the image the page started after is gone: ask the same page by offset
      state.after = ""; starts[startKey(state.page)] = ""; writeState(false); return load(detail);
    }
    showError(err, q);
    $("#count").textContent = "—";
    $("#grid").replaceChildren(el("p", {id: "empty", class: "err"}, err.message + (err.help ? " — " + err.help : "")));
    $("#pageinfo").textContent = "";
    $("#facet-list").replaceChildren();
    return;
  }
  if (n !== seq.load) return;
  showError(null);
  syncSort();
  results = {...res, n: n, count: counted.n === n ? counted.count : null};
  renderGrid();
  loadFacets(q, n);
  if (!$("#explain").hidden) loadExplain();
  if (!detail) return;
  if (state.open) openDetail(state.open, false); else hideDetail();
}

function renderGrid() {
  const grid = $("#grid");
  const tiles = results.rows.map((r, i) => {
    const img = el("img", {class: "thumb", loading: "lazy", alt: r.path, src: thumbUrl(r.path, 256)});
    img.addEventListener("load", () => { if (img.naturalWidth < 64) img.classList.add("small"); });
    const kvs = results.columns.map((c) => el("div", {class: "kv"}, el("b", {}, c.name + " "), cellText(r[c.name])));
    return el("div", {class: "tile" + (i === selected ? " sel" : ""), "data-path": r.path, "data-i": i,
                      onclick: () => { select(i); openDetail(r.path, true); }},
              img, el("div", {class: "cap"}, el("div", {class: "path", title: r.path}, r.path), ...kvs));
  });
  grid.replaceChildren(...(tiles.length ? tiles : [el("p", {id: "empty"}, "No image matches this query.")]));
  grid.dataset.query = results.query;  // what the grid shows (the count above may be a live count)
  if (results.count === null) delete grid.dataset.count; else grid.dataset.count = results.count;
  renderPager();
  if (selected >= tiles.length) selected = -1;
}

function renderPager() {
  const shown = results.rows.length, known = results.count !== null;
  const of = known ? ` of ${fmt(Math.max(1, Math.ceil(results.count / PAGE)))}` : "";
  const first = state.page * PAGE;
  $("#pageinfo").textContent = shown ? `page ${state.page + 1}${of} · ${fmt(first + 1)}–${fmt(first + shown)}` : "";
  $("#prev").disabled = state.page <= 0;
  $("#next").disabled = !results.more;
}

function cellText(v) {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

function select(i) {
  const tiles = document.querySelectorAll(".tile");
  if (!tiles.length) return;
  selected = Math.max(0, Math.min(i, tiles.length - 1));
  tiles.forEach((t, j) => t.classList.toggle("sel", j === selected));
  tiles[selected].scrollIntoView({block: "nearest"});
}

async function loadFacets(q, n) {
  const keys = facetKeys();
  const list = $("#facet-list");
  if (!keys.length) { list.replaceChildren(el("p", {class: "muted"}, "No keys yet.")); return; }
  let r;
  try { r = await api("/api/facets", {q: q, keys: keys.join(",")}); } catch (err) {
    list.replaceChildren(el("p", {class: "err"}, err.message)); return;
  }
  if (n !== seq.load) return;
  list.replaceChildren(...r.facets.map(renderFacet));
}

function bar(percent) {
  const e = el("div", {class: "bar"});
  e.style.width = percent.toFixed(1) + "%";  // CSSOM, allowed by the page's CSP (style attributes are not)
  return e;
}

function renderFacet(f) {
  const most = Math.max(1, ...f.buckets.map((b) => b.count));
  const how = f.step ? ` · bins of ${f.step}` : f.unit ? ` · by ${f.unit}` : "";
  const rows = f.buckets.map((b, i) => {
    const special = b.kind === "missing" || b.kind === "other";
    const row = el("div", {class: "bucket" + (special ? " special" : "") + (b.clause ? "" : " inert"),
                           title: b.clause ? `${b.clause}   (Alt/Shift-click: ${b.exclude})` : "",
                           "data-clause": b.clause || ""},
      bar(100 * b.count / most),
      el("span", {class: "label"}, b.label), el("span", {class: "n"}, fmt(b.count)));
    if (b.clause) row.addEventListener("click", (ev) => addClause(ev.altKey || ev.shiftKey ? b.exclude : b.clause));
    if (b.bounds) {  // a histogram bin: press on one, release on another to select the bins between
      row.addEventListener("mousedown", (ev) => { if (ev.button === 0) { drag = {facet: f, from: i, to: i}; markDrag(); ev.preventDefault(); } });
      row.addEventListener("mouseenter", () => { if (drag && drag.facet === f) { drag.to = i; markDrag(); } });
    }
    return row;
  });
  const remove = el("button", {type: "button", title: "Hide this facet", onclick: () => {
    state.facets = facetKeys().filter((k) => k !== f.key); writeState(true); load(); }}, "×");
  return el("div", {class: "facet", "data-key": f.key},
            el("h3", {}, el("span", {}, f.key, " ", el("span", {class: "type"}, f.type + how)), remove), ...rows);
}

// Dragging over histogram bins: the range from the first bin's lower bound to the last one's upper.
let drag = null;  // {facet, from, to}: bucket indices

function markDrag() {
  document.querySelectorAll(".bucket.dragged").forEach((e) => e.classList.remove("dragged"));
  if (!drag) return;
  const rows = document.querySelectorAll(`.facet[data-key="${CSS.escape(drag.facet.key)}"] .bucket`);
  const lo = Math.min(drag.from, drag.to), hi = Math.max(drag.from, drag.to);
  rows.forEach((e, j) => e.classList.toggle("dragged", j >= lo && j <= hi));
}

function endDrag(ev) {
  if (!drag) return;
  const d = drag;
  drag = null;
  markDrag();
  if (d.from === d.to) return;  // a click on one bin: its own click handler adds it
  const lo = d.facet.buckets[Math.min(d.from, d.to)], hi = d.facet.buckets[Math.max(d.from, d.to)];
  const range = `${lo.bounds[0]} ${hi.bounds[1]}`;
  addClause(ev.altKey || ev.shiftKey ? `-(${range})` : range);
}

function syncSort() {
  const sel = $("#sort");
  if (!info) return;
  if (!sel.options.length) {
    sel.append(el("option", {value: ""}, "path"), el("option", {value: "path:desc"}, "path ↓"));
    for (const k of info.keys.filter((k) => k.type !== "tags")) {
      sel.append(el("option", {value: k.name}, k.name), el("option", {value: k.name + ":desc"}, k.name + " ↓"));
    }
  }
  sel.value = state.sort;
  const add = $("#add-facet");
  add.replaceChildren(el("option", {value: ""}, "—"),
    ...info.keys.filter((k) => !facetKeys().includes(k.name)).map((k) => el("option", {value: k.name}, `${k.name} (${k.type})`)));
}

async function loadExplain() {
  const box = $("#explain");
  try {
    const e = await api("/api/explain", {q: state.q});
    box.replaceChildren(el("div", {}, el("b", {}, "Interpretation: "), el("code", {}, e.interpretation),
                           el("span", {class: "muted"}, ` (datetimes in ${e.timezone}) · ${fmt(e.total)} images`)),
      el("table", {}, ...e.clauses.map((c) => el("tr", {}, el("td", {}, el("code", {}, c.text)), el("td", {}, `${fmt(c.count)} alone`)))));
  } catch (err) { box.replaceChildren(el("span", {class: "err"}, err.message)); }
}

// ---------------------------------------------------------------- detail view
async function openDetail(path, push) {
  state.open = path;
  if (push) writeState(true);
  let d;
  try { d = await api("/api/image", {path: path}); } catch (err) {
    $("#detail-path").textContent = path; $("#detail-file").textContent = err.message; $("#detail").hidden = false; return;
  }
  renderDetail(d);
  $("#detail").hidden = false;
}

function renderDetail(d) {
  const img = $("#detail-img");
  img.classList.remove("small");
  img.onload = () => { if (img.naturalWidth < 64) img.classList.add("small"); };
  img.src = thumbUrl(d.path, 1024);
  img.alt = d.path;
  $("#detail-path").textContent = d.path;
  $("#detail-media").replaceChildren(el("span", {class: "muted"}, "media_id " + d.media_id + " · "),
    d.file === "ok" ? el("a", {href: "/api/media?path=" + encodeURIComponent(d.path), target: "_blank"}, "original file")
                    : el("span", {class: "err"}, "file: " + d.file));
  $("#detail-file").textContent = "";
  const edits = info && info.allow_edits;
  $("#detail-tags").replaceChildren(el("b", {}, "tags "), ...(d.tags.length ? d.tags.map((t) => el("span", {class: "chip"}, t,
      edits ? el("button", {type: "button", title: "remove tag", onclick: () => edit({remove_tags: [t]})}, "×") : null))
    : [el("span", {class: "muted"}, "none")]));
  $("#detail-values tbody").replaceChildren(...d.values.map((v) => el("tr", {"data-key": v.key},
    el("td", {}, v.key), el("td", {class: "val"}, v.text), el("td", {}, v.type),
    el("td", {}, `${v.source || "?"} ${v.source_id ?? ""}` + (v.source_detail ? ` (${v.source_detail})` : "") + (v.at ? ` · ${v.at}` : "")),
    el("td", {}, edits ? el("button", {type: "button", title: "unset (history keeps it)", onclick: () => edit({unset: [v.key]})}, "unset") : ""))));
  $("#detail-history tbody").replaceChildren(...(d.history.length ? d.history.map((h) => el("tr", {},
    el("td", {}, h.at || ""), el("td", {}, h.key), el("td", {class: "val"}, cellText(h.old)), el("td", {class: "val"}, cellText(h.new)),
    el("td", {}, h.source))) : [el("tr", {}, el("td", {colspan: 5, class: "muted"}, "no changes recorded"))]));
  $("#edit-form").hidden = !edits;
  $("#edit-error").textContent = "";
}

async function edit(body) {
  body.path = state.open;
  try {
    const r = await post("/api/edit", body);
    renderDetail(r.image);
    $("#edit-error").textContent = "";
    refreshResults();
  } catch (err) { $("#edit-error").textContent = err.message + (err.help ? " — " + err.help : ""); }
}

async function refreshResults() { await load(false); }  // the grid and facets; the detail stays open

function hideDetail() { $("#detail").hidden = true; }

function closeDetail() {
  if ($("#detail").hidden) return;
  hideDetail();
  state.open = "";
  writeState(true);
}

// ---------------------------------------------------------------- export
function openExport() {
  $("#export-query").replaceChildren("Query: ", el("code", {}, state.q || "(every image)"),
                                     state.sort ? ` · sorted by ${state.sort}` : "");
  $("#export-result").replaceChildren();
  const cols = $("#export-form").elements.columns;
  if (!cols.value && state.cols.length) cols.value = state.cols.join(",");
  $("#export").hidden = false;
  $("#export-form").elements.out.focus();
  previewExport();
}

// The dialog's options as the export API takes them (the preview takes all but out and force).
function exportOptions() {
  const f = $("#export-form").elements, body = {query: state.q};
  if (state.sort) body.sort = state.sort;
  for (const name of ["out", "format", "columns", "split", "group_by", "sample", "seed", "limit", "media", "media_root"]) {
    if (f[name].value !== "") body[name] = f[name].value;
  }
  body.force = f.force.checked;
  body.skip_missing = f.skip_missing.checked;
  return body;
}

// How many images the export would write, per split: the export itself, run without writing.
async function previewExport() {
  const n = ++seq.preview, box = $("#export-preview");
  const {out, force, ...params} = exportOptions();
  params.skip_missing = params.skip_missing ? "true" : "";
  box.replaceChildren(el("p", {class: "muted"}, "counting…"));
  let r;
  box.dataset.pending = "1";
  try { r = await api("/api/export/preview", params); } catch (err) {
    if (n !== seq.preview) return;
    box.replaceChildren(el("p", {class: "err"}, err.message + (err.help ? " — " + err.help : "")));
    delete box.dataset.pending;
    return;
  }
  if (n !== seq.preview) return;
  delete box.dataset.pending;
  box.replaceChildren(
    el("p", {}, `Will write ${fmt(r.rows)} of ${fmt(r.matched)} matching images`,
       r.missing ? ` (${fmt(r.missing)} missing files left out)` : ""),
    splitTable("export-preview-splits", r.splits));
}

function splitTable(id, splits) {
  return splits.length ? el("table", {id: id}, ...splits.map((s) => el("tr", {"data-split": s.name},
    el("td", {}, s.name), el("td", {}, `${s.ratio}`), el("td", {}, fmt(s.count))))) : "";
}

async function runExport(ev) {
  ev.preventDefault();
  const box = $("#export-result"), body = exportOptions();
  box.replaceChildren(el("p", {class: "muted"}, "exporting…"));
  try {
    const r = await post("/api/export", body);
    box.replaceChildren(el("p", {class: "ok"}, `Wrote ${fmt(r.rows)} of ${fmt(r.matched)} images to `, el("code", {}, r.out),
                                 r.media ? ` (${fmt(r.placed)} files, ${r.media})` : ""),
      splitTable("export-splits", r.splits),
      el("p", {class: "muted"}, `manifest ${r.manifest} · rebuild with: metastore export --from ${r.record} --out DIR`),
      ...r.warnings.map((w) => el("p", {class: "err"}, "warning: " + w)));
  } catch (err) {
    box.replaceChildren(el("p", {class: "err"}, "error: " + err.message), err.help ? el("p", {}, "help: " + err.help) : "");
  }
}

// ---------------------------------------------------------------- wiring
function wire() {
  const input = $("#q");
  input.addEventListener("input", () => { debounce("complete", 40, complete); debounce("count", 120, liveCount); });
  input.addEventListener("click", () => debounce("complete", 10, complete));
  input.addEventListener("blur", () => setTimeout(closeCompletions, 150));
  input.addEventListener("keydown", (ev) => {
    const open = !$("#completions").hidden && comp.items.length;
    if (ev.key === "ArrowDown" && open) { comp.sel = (comp.sel + 1) % comp.items.length; renderCompletions(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp" && open) { comp.sel = (comp.sel - 1 + comp.items.length) % comp.items.length; renderCompletions(); ev.preventDefault(); }
    else if (ev.key === "Tab" && open) { accept(comp.sel >= 0 ? comp.sel : 0); ev.preventDefault(); }
    else if (ev.key === "Enter") { if (open && comp.sel >= 0) accept(comp.sel); else submitQuery(); ev.preventDefault(); }
    else if (ev.key === "Escape") { if (open) closeCompletions(); else input.blur(); ev.preventDefault(); ev.stopPropagation(); }
  });
  $("#sort").addEventListener("change", (ev) => { state.sort = ev.target.value; firstPage(); writeState(true); load(); });
  $("#cols").addEventListener("change", (ev) => { state.cols = ev.target.value.split(",").map((s) => s.trim()).filter(Boolean); writeState(true); load(); });
  $("#add-facet").addEventListener("change", (ev) => { if (!ev.target.value) return; state.facets = [...facetKeys(), ev.target.value]; writeState(true); load(); });
  $("#prev").addEventListener("click", () => {
    state.page = Math.max(0, state.page - 1);
    state.after = (state.page && starts[startKey(state.page)]) || "";  // unknown: by offset
    writeState(true); load();
  });
  $("#next").addEventListener("click", () => {
    const last = results.rows[results.rows.length - 1];
    starts[startKey(state.page)] = state.after;
    state.page += 1;
    state.after = last ? last.path : "";
    starts[startKey(state.page)] = state.after;
    writeState(true); load();
  });
  $("#explain-btn").addEventListener("click", () => { const b = $("#explain"); b.hidden = !b.hidden; if (!b.hidden) loadExplain(); });
  $("#export-btn").addEventListener("click", openExport);
  $("#export-form").addEventListener("submit", runExport);
  const previewSoon = (ev) => {
    if (["out", "force"].includes(ev.target.name)) return;
    seq.preview++;  // a preview in flight is for the old options
    $("#export-preview").dataset.pending = "1";  // until the counts for these options are shown
    debounce("preview", 200, previewExport);
  };
  $("#export-form").addEventListener("input", previewSoon);
  $("#export-form").addEventListener("change", previewSoon);
  $("#export .close").addEventListener("click", () => { $("#export").hidden = true; });
  $("#detail .close").addEventListener("click", closeDetail);
  $("#detail").addEventListener("click", (ev) => { if (ev.target.id === "detail") closeDetail(); });
  $("#edit-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = $("#edit-key").value.trim();
    if (k) edit({set: {[k]: $("#edit-value").value}});
  });
  $("#add-tag").addEventListener("click", () => { const t = $("#edit-tag").value.trim(); if (t) edit({add_tags: [t]}); });
  document.addEventListener("keydown", (ev) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (ev.key === "Escape") {
      if (!$("#export").hidden) { $("#export").hidden = true; ev.preventDefault(); }
      else if (!$("#detail").hidden) { closeDetail(); ev.preventDefault(); }
      return;
    }
    if (typing || !$("#export").hidden) return;
    if (ev.key === "/") { ev.preventDefault(); input.focus(); input.select(); return; }
    if (!$("#detail").hidden) return;
    const cols = Math.max(1, getComputedStyle($("#grid")).gridTemplateColumns.split(" ").length);
    const moves = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols};
    if (ev.key in moves) { select(selected < 0 ? 0 : selected + moves[ev.key]); ev.preventDefault(); }
    else if (ev.key === "Enter" && selected >= 0 && results.rows[selected]) { openDetail(results.rows[selected].path, true); ev.preventDefault(); }
  });
  window.addEventListener("popstate", () => { readState(); load(); });
  document.addEventListener("mouseup", endDrag);
}

async function main() {
  wire();
  readState();
  infoReady = api("/api/info").then((i) => { info = i; document.title = `metastore · ${info.catalog}`; });
  await load();
  document.body.dataset.ready = "1";
}

main();
