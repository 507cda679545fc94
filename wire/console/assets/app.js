// tsgate console. No dependencies and nothing from elsewhere: the page's
// Content-Security-Policy allows this file and its own origin only. Every
// value from the server reaches the page as text (textContent,
// createTextNode), never as markup.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2358c5", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d", "#087f5b", "#495057"];
  const MAX_ROWS_SHOWN = 1000;
  const MAX_SERIES = 12;

  const state = {
    token: sessionStorage.getItem("tsgate-token") || "",
    metricsTimer: null,
    prev: null,
    rates: [],
  };

  // el builds an element; attrs are attributes (or, for "text", its text).
  function el(tag, attrs = {}, ...children) {
    const svg = ["svg", "g", "line", "polyline", "text", "rect", "circle"].includes(tag);
    const e = svg ? document.createElementNS(SVG, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === "text") e.textContent = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const resp = await fetch(path, Object.assign({}, opts, { headers }));
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = { error: text }; }
    return { status: resp.status, body };
  }

  function errorText(body, status) {
    if (!body) return "HTTP " + status;
    const e = body.error;
    if (typeof e === "string") return e;
    if (e && e.message) {
      let s = e.message + (e.sqlstate ? " (SQLSTATE " + e.sqlstate + ")" : "");
      if (e.hint) s += "\nhint: " + e.hint;
      return s;
    }
    return "HTTP " + status;
  }

  // ---- token ----
  async function useToken(t) {
    state.token = t;
    if (t) sessionStorage.setItem("tsgate-token", t); else sessionStorage.removeItem("tsgate-token");
    const who = $("who");
    if (!t) { who.textContent = "no token"; return; }
    const r = await api("/api/v1/auth/verify");
    if (r.status === 200 && r.body && r.body.valid) {
      const info = r.body.token_info || {};
      who.textContent = (info.name ? info.name + ": " : "") + (r.body.permissions || []).join(", ");
      who.dataset.valid = "true";
    } else {
      who.textContent = "token not accepted";
      who.dataset.valid = "false";
    }
  }
  $("auth").addEventListener("submit", (e) => { e.preventDefault(); useToken($("token").value.trim()); });

  // ---- tabs ----
  function show(name) {
    for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
    for (const s of document.querySelectorAll("main .tab")) s.hidden = s.id !== "tab-" + name;
    if (name === "conformance") loadConformance();
    if (name === "metrics") startMetrics(); else stopMetrics();
  }
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.tab));

  // ---- query ----
  $("query-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
  $("sql").addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); }
  });

  async function run() {
    const sql = $("sql").value.trim();
    const db = $("database").value.trim() || "default";
    if (!sql) return;
    const status = $("query-status"), errBox = $("query-error");
    status.textContent = "running…";
    errBox.hidden = true;
    const started = performance.now();
    const translations = loadTranslations(sql, db);
    const r = await api("/api/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-arc-database": db },
      body: JSON.stringify({ sql }),
    });
    const ms = Math.round(performance.now() - started);
    if (r.status !== 200 || !r.body || r.body.success === false) {
      status.textContent = "failed after " + ms + " ms";
      errBox.textContent = errorText(r.body, r.status);
      errBox.hidden = false;
      $("result").replaceChildren();
      $("chart").replaceChildren();
      await translations;
      return;
    }
    const cols = r.body.columns || [], rows = r.body.data || [];
    const n = r.body.row_count !== undefined ? r.body.row_count : rows.length;
    status.textContent = n + " row" + (n === 1 ? "" : "s") + " in " + ms + " ms" + (rows.length > MAX_ROWS_SHOWN ? " (table shows the first " + MAX_ROWS_SHOWN + ")" : "");
    status.dataset.rows = String(n);
    renderTable(cols, rows);
    renderQueryChart(cols, rows);
    await translations;
  }

  function renderTable(cols, rows) {
    const head = el("tr", {}, ...cols.map((c) => el("th", { text: c })));
    const body = rows.slice(0, MAX_ROWS_SHOWN).map((row) => el("tr", {}, ...row.map((v) => {
      if (v === null) return el("td", { class: "null", text: "null" });
      if (typeof v === "number") return el("td", { class: "num", text: String(v) });
      return el("td", { text: typeof v === "object" ? JSON.stringify(v) : String(v) });
    })));
    $("result").replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  }

  const isTime = (v) => typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) && !isNaN(Date.parse(v));

  // A time chart needs a time column and a numeric one; string columns
  // (tags) split the rows into series.
  function renderQueryChart(cols, rows) {
    const box = $("chart");
    let ti = cols.indexOf("time");
    const nonNull = (i) => rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined);
    if (ti < 0 || !nonNull(ti).every(isTime)) ti = cols.findIndex((_, i) => { const vs = nonNull(i); return vs.length > 0 && vs.every(isTime); });
    const numeric = [], groups = [];
    cols.forEach((_, i) => {
      if (i === ti) return;
      const vs = nonNull(i);
      if (vs.length > 0 && vs.every((v) => typeof v === "number")) numeric.push(i);
      else if (vs.every((v) => typeof v === "string" || typeof v === "boolean")) groups.push(i);
    });
    if (ti < 0 || numeric.length === 0 || rows.length === 0) {
      box.replaceChildren(el("div", { class: "empty", text: "No time chart: the result needs a time column and a numeric column." }));
      return;
    }
    const series = new Map();
    for (const row of rows) {
      const t = Date.parse(row[ti]);
      const key = groups.map((g) => String(row[g])).join(", ");
      for (const ni of numeric) {
        const v = row[ni];
        if (typeof v !== "number") continue;
        const name = [key, numeric.length > 1 || !key ? cols[ni] : ""].filter(Boolean).join(" · ");
        if (!series.has(name)) series.set(name, []);
        series.get(name).push([t, v]);
      }
    }
    let list = [...series.entries()].map(([name, pts]) => ({ name, pts: pts.sort((a, b) => a[0] - b[0]) }));
    let note = null;
    if (list.length > MAX_SERIES) {
      list.sort((a, b) => b.pts.length - a.pts.length);
      note = "showing " + MAX_SERIES + " of " + list.length + " series";
      list = list.slice(0, MAX_SERIES);
    }
    lineChart(box, list, { height: 300, note, time: true });
  }

  // niceTicks covers [lo, hi] with about n round steps; the range grows to
  // the outer ticks so every point is inside the drawn grid.
  function niceTicks(lo, hi, n) {
    if (lo === hi) { lo -= 1; hi += 1; }
    const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
    const first = Math.floor(lo / step), last = Math.ceil(hi / step), out = [];
    for (let i = first; i <= last; i++) out.push(+(i * step).toPrecision(12));
    return { lo: out[0], hi: out[out.length - 1], ticks: out };
  }

  function fmtTime(ms, span) {
    const d = new Date(ms), p = (n) => String(n).padStart(2, "0");
    const hm = p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
    if (span < 120e3) return hm + ":" + p(d.getUTCSeconds());
    if (span < 2 * 86400e3) return hm;
    return d.getUTCFullYear() + "-" + p(d.getUTCMonth() + 1) + "-" + p(d.getUTCDate());
  }

  function fmtNum(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    return String(+v.toPrecision(3));
  }

  // lineChart draws series [{name, pts: [[x, y]…]}] as an inline SVG.
  function lineChart(box, series, opts) {
    const W = 900, H = opts.height || 300, L = 56, R = 14, T = 10, B = 26;
    const xs = series.flatMap((s) => s.pts.map((p) => p[0])), ys = series.flatMap((s) => s.pts.map((p) => p[1]));
    if (xs.length === 0) { box.replaceChildren(el("div", { class: "empty", text: "no data yet" })); return; }
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    if (x0 === x1) { x0 -= 1000; x1 += 1000; }
    const y = niceTicks(Math.min(...ys, opts.zero ? 0 : Infinity), Math.max(...ys), 5);
    const sx = (v) => L + (v - x0) / (x1 - x0) * (W - L - R), sy = (v) => T + (1 - (v - y.lo) / (y.hi - y.lo)) * (H - T - B);
    const svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "time chart" });
    const axes = el("g", { class: "axes" });
    for (const v of y.ticks) {
      axes.append(el("line", { class: "axis", x1: L, x2: W - R, y1: sy(v), y2: sy(v) }));
      axes.append(el("text", { x: L - 6, y: sy(v) + 4, "text-anchor": "end", text: fmtNum(v) }));
    }
    let prevLabel = "";
    for (let i = 0; i <= 5; i++) {
      const v = x0 + (x1 - x0) * i / 5;
      const label = opts.time ? fmtTime(v, x1 - x0) : fmtNum(v);
      if (label === prevLabel) continue;
      prevLabel = label;
      axes.append(el("text", { x: sx(v), y: H - 8, "text-anchor": i === 0 ? "start" : i === 5 ? "end" : "middle", text: label }));
    }
    if (opts.time) axes.append(el("text", { x: 4, y: H - 8, text: "UTC" }));
    svg.append(axes);
    const legend = el("div", { class: "legend" });
    series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length];
      const pts = s.pts.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
      svg.append(el("polyline", { class: "series", points: pts, stroke: color, "data-series": s.name }));
      if (s.pts.length === 1) svg.append(el("circle", { cx: sx(s.pts[0][0]), cy: sy(s.pts[0][1]), r: 3, fill: color }));
      const sw = el("span", { class: "swatch" });
      sw.style.background = color;
      legend.append(el("span", {}, sw, s.name));
    });
    if (opts.note) legend.append(el("span", { class: "muted", text: opts.note }));
    box.replaceChildren(svg, legend);
  }

  // ---- translations ----
  async function loadTranslations(sql, db) {
    const box = $("translations"), intro = $("translations-intro");
    const r = await api("/api/v1/ui/translate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sql, database: db }) });
    if (r.status !== 200) {
      intro.textContent = "Not translated: " + errorText(r.body, r.status);
      box.replaceChildren();
      return;
    }
    const b = r.body;
    intro.textContent = "Database " + b.database + "; this gateway serves from " + b.backend +
      (b.as_written ? ", which runs Arc SQL as written (the duckdb card is what a translated run would send)." : ".") +
      " Nothing is executed here.";
    box.replaceChildren(...b.translations.map((t) => {
      const badges = [el("span", { class: "badge " + t.outcome, text: t.outcome })];
      if (t.live) badges.push(el("span", { class: "badge live", text: "live" }));
      const card = el("div", { class: "card " + t.outcome, "data-target": t.target, "data-outcome": t.outcome },
        el("h3", {}, t.target, ...badges, el("span", { class: "backends", text: t.language + " · " + (t.backends || []).join(", ") })));
      if (t.text) card.append(el("pre", { text: t.text }));
      if (t.answer) card.append(el("p", { text: "answered by the gateway: " + t.answer }));
      if (t.error) {
        card.append(el("pre", { class: "refusal", text: t.error.message + "\nSQLSTATE " + t.error.sqlstate + (t.error.hint ? "\nhint: " + t.error.hint : "") }));
        if (t.duckdb_only) card.append(el("p", { class: "muted", text: "DuckDB-only syntax: the embedded store runs it as written." }));
      }
      if (t.steps && t.steps.length) card.append(el("div", { class: "muted", text: "runs in the gateway, on the backend's rows:" }), el("ul", {}, ...t.steps.map((s) => el("li", { text: s }))));
      if (t.notes && t.notes.length) card.append(el("div", { class: "muted", text: "notes:" }), el("ul", {}, ...t.notes.map((s) => el("li", { text: s }))));
      return card;
    }));
  }

  // ---- conformance ----
  async function loadConformance() {
    const errBox = $("conformance-error");
    const r = await api("/api/v1/ui/conformance");
    if (r.status !== 200) {
      errBox.textContent = errorText(r.body, r.status);
      errBox.hidden = false;
      return;
    }
    errBox.hidden = true;
    const b = r.body;
    const base = b.baseline || {};
    $("baseline").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { text: "backend" }), el("th", { text: "at least passed" }), el("th", { text: "at most failed" }))),
      el("tbody", {}, ...Object.keys(base).map((k) => el("tr", { "data-backend": k }, el("td", { text: k }), el("td", { class: "num", text: String(base[k].min_passed) }), el("td", { class: "num", text: String(base[k].max_failed) })))));
    const note = $("report-note"), scores = $("report-scores"), matrix = $("matrix");
    if (!b.report) {
      note.textContent = (b.report_error ? b.report_error + " " : "No report at " + (b.report_path || "(none configured)") + ". ") +
        "Write one with: tsgate conformance --backend … --report json --out " + (b.report_path || "FILE");
      scores.replaceChildren();
      matrix.replaceChildren();
      return;
    }
    const rep = b.report;
    note.textContent = rep.total + " cases, run " + rep.started + " (" + b.report_path + ")";
    scores.replaceChildren(el("ul", {}, ...rep.backends.map((be) => el("li", { text: be.name + ": " + Object.entries(be.counts || {}).map(([k, v]) => v + " " + k).join(", ") }))));
    const cases = rep.backends.length ? rep.backends[0].results.map((x) => x.case) : [];
    const byBackend = rep.backends.map((be) => new Map(be.results.map((x) => [x.case, x])));
    matrix.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { text: "case" }), ...rep.backends.map((be) => el("th", { text: be.name })))),
      el("tbody", {}, ...cases.map((c) => el("tr", {}, el("td", { class: "case", text: c }), ...byBackend.map((m) => {
        const x = m.get(c);
        return x ? el("td", { class: x.outcome, title: x.detail || "", text: x.outcome }) : el("td", { text: "–" });
      })))));
  }

  // ---- metrics ----
  // parseMetrics reads Prometheus' text format into [{name, labels, value}].
  function parseMetrics(text) {
    const out = [];
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      if (m[3]) for (const lm of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
      out.push({ name: m[1], labels, value: parseFloat(m[4]) });
    }
    return out;
  }
  const sum = (ms, name, f) => ms.filter((m) => m.name === name && (!f || f(m.labels))).reduce((a, m) => a + m.value, 0);

  async function pollMetrics() {
    let text;
    try {
      const resp = await fetch("/metrics");
      text = await resp.text();
    } catch (_) { return; }
    const ms = parseMetrics(text), now = Date.now();
    const cur = {
      t: now,
      requests: sum(ms, "tsgate_http_requests_total"),
      errors: sum(ms, "tsgate_errors_total") + sum(ms, "tsgate_pgwire_errors_total"),
      rows: sum(ms, "tsgate_rows_written_total"),
      mtWrites: sum(ms, "memtrace_writes_total"),
      mtSearches: sum(ms, "memtrace_queries_total", (l) => l.kind === "search"),
    };
    const prev = state.prev;
    state.prev = cur;
    const rate = (k) => prev ? Math.max(0, (cur[k] - prev[k]) / ((cur.t - prev.t) / 1000)) : null;
    const show = (v, unit) => v === null ? "…" : fmtNum(v) + (unit || "");
    const conns = ms.filter((m) => m.name === "tsgate_connections_open").map((m) => m.labels.listener + " " + m.value).join(" · ");
    const cap = sum(ms, "tsgate_backend_write_buffer_capacity_rows");
    const cards = [
      ["requests/s", show(rate("requests")), "Arc API, all routes"],
      ["errors/s", show(rate("errors")), "Arc API and pg wire"],
      ["rows written/s", show(rate("rows")), "committed to the backend"],
      ["open connections", String(sum(ms, "tsgate_connections_open")), conns],
      ["write buffer", cap > 0 ? (100 * sum(ms, "tsgate_backend_write_buffer_rows") / cap).toFixed(1) + "%" : "–", cap > 0 ? "of " + fmtNum(cap) + " rows" : "embedded store: no buffer"],
      ["dual-write lag", fmtNum(sum(ms, "tsgate_dualwrite_lag_seconds")) + " s", fmtNum(sum(ms, "tsgate_dualwrite_queue_depth")) + " batches queued"],
      ["memtrace creates/s", show(rate("mtWrites")), "searches/s " + show(rate("mtSearches"))],
      ["memory", fmtNum(sum(ms, "process_resident_memory_bytes") / 1048576) + " MiB", sum(ms, "go_goroutines") + " goroutines"],
    ];
    $("metric-cards").replaceChildren(...cards.map(([label, value, sub]) =>
      el("div", { class: "metric", "data-metric": label }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }), el("div", { class: "label", text: sub }))));
    const rr = rate("requests");
    if (rr !== null) {
      state.rates.push([now, rr]);
      if (state.rates.length > 90) state.rates.shift();
      lineChart($("rate-chart"), [{ name: "requests/s", pts: state.rates }], { height: 160, time: true, zero: true });
    }
  }
  function startMetrics() {
    if (state.metricsTimer) return;
    pollMetrics();
    state.metricsTimer = setInterval(pollMetrics, 2000);
  }
  function stopMetrics() {
    clearInterval(state.metricsTimer);
    state.metricsTimer = null;
  }

  if (state.token) { $("token").value = state.token; useToken(state.token); }
})();
