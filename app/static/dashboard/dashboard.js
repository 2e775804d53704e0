/* adpulse KPI dashboard: reads /v1/kpis and /v1/freshness from the same origin. No build step. */
(function () {
  "use strict";

  var DIMENSIONS = [
    ["source", "Source"], ["medium", "Medium"], ["campaign_id", "Campaign"], ["adset_id", "Ad set"],
    ["ad_id", "Ad"], ["sub1", "Sub 1"], ["sub2", "Sub 2"], ["sub3", "Sub 3"], ["sub4", "Sub 4"],
    ["sub5", "Sub 5"], ["country", "Country"], ["device", "Device"], ["os", "OS"], ["browser", "Browser"],
    ["day", "Day"], ["hour", "Hour"]
  ];
  var DIM_LABEL = {};
  DIMENSIONS.forEach(function (d) { DIM_LABEL[d[0]] = d[1]; });

  // kind: int | pct (a fraction shown as %) | money (2 dp) | money3 (3 dp); good: +1 more is better, -1 worse, 0 neither.
  var COLUMNS = [
    { key: "impressions", label: "Impr.", kind: "int", good: 1, on: true },
    { key: "clicks", label: "Clicks", kind: "int", good: 1, on: true },
    { key: "unique_clicks", label: "Uniq. clicks", kind: "int", good: 1, on: true },
    { key: "bot_clicks", label: "Bot clicks", kind: "int", good: -1, on: true, optional: true },
    { key: "ctr", label: "CTR", kind: "pct", good: 1, on: true },
    { key: "conversions", label: "Conv.", kind: "int", good: 1, on: true },
    { key: "cr", label: "CR", kind: "pct", good: 1, on: true },
    { key: "conversions_total", label: "Conv. incl. pending", kind: "int", good: 1, on: false },
    { key: "cost", label: "Cost", kind: "money", good: 0, on: true },
    { key: "revenue", label: "Revenue", kind: "money", good: 1, on: true },
    { key: "revenue_total", label: "Revenue incl. pending", kind: "money", good: 1, on: false },
    { key: "profit", label: "Profit", kind: "money", good: 1, on: true, derived: true },
    { key: "roi", label: "ROI", kind: "pct", good: 1, on: true, colour: true },
    { key: "roas", label: "ROAS", kind: "pct", good: 1, on: true },
    { key: "epc", label: "EPC", kind: "money3", good: 1, on: true },
    { key: "cpc", label: "CPC", kind: "money3", good: -1, on: false },
    { key: "cpm", label: "CPM", kind: "money", good: -1, on: false },
    { key: "cpa", label: "CPA", kind: "money", good: -1, on: true }
  ];
  var COLUMN = {};
  COLUMNS.forEach(function (c) { COLUMN[c.key] = c; });
  var LIMIT = 1000;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var STORE = "adpulse.dashboard.columns";
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    preset: "last7", from: "", to: "", tz: "UTC", groups: ["source", "campaign_id", "ad_id"],
    sort: { key: "clicks", desc: true }, compare: false, refresh: 0, selected: null,
    columns: COLUMNS.filter(function (c) { return c.on; }).map(function (c) { return c.key; }),
    available: {}, currency: "USD"
  };
  var tree = { children: [], totals: null, prevTotals: null };
  var generation = 0;
  var timer = null;
  var chart = null;

  /* ---------- exact decimals (money arrives as decimal strings) ---------- */
  function micros(value) {
    if (value === null || value === undefined || value === "") return null;
    var s = String(value).trim();
    if (/e/i.test(s)) s = Number(s).toFixed(6);
    var neg = s.charAt(0) === "-";
    if (neg || s.charAt(0) === "+") s = s.slice(1);
    var parts = s.split(".");
    var frac = ((parts[1] || "") + "000000").slice(0, 6);
    var v = BigInt(parts[0] || "0") * 1000000n + BigInt(frac);
    return neg ? -v : v;
  }
  function microsString(v) {
    var neg = v < 0n, a = neg ? -v : v;
    var s = a.toString().padStart(7, "0");
    return (neg ? "-" : "") + s.slice(0, -6) + "." + s.slice(-6);
  }
  function groupDigits(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function roundMicros(v, dp) {  // half away from zero
    var neg = v < 0n, a = neg ? -v : v, unit = 10n ** BigInt(6 - dp);
    a = (a + unit / 2n) / unit;
    var s = a.toString().padStart(dp + 1, "0");
    var out = groupDigits(s.slice(0, s.length - dp)) + (dp ? "." + s.slice(s.length - dp) : "");
    return (neg && a !== 0n ? "-" : "") + out;
  }
  function num(value) { return value === null || value === undefined || value === "" ? null : Number(value); }

  function cellValue(row, key) {
    if (!row) return null;
    if (key === "profit") {
      var r = micros(row.revenue), c = micros(row.cost);
      return r === null || c === null ? null : microsString(r - c);
    }
    var v = row[key];
    return v === undefined ? null : v;
  }
  function format(col, value) {
    if (value === null || value === undefined) return "—";
    switch (col.kind) {
      case "int": return groupDigits(String(Math.round(Number(value))));
      case "pct": return groupDigits((Number(value) * 100).toFixed(2)) + "%";
      case "money": return roundMicros(micros(value), 2);
      case "money3": return roundMicros(micros(value), 3);
    }
    return String(value);
  }
  function delta(col, cur, prev) {
    var a = num(cur), b = num(prev);
    if (a === null && b === null) return null;
    if (col.kind === "pct") {
      if (a === null || b === null) return null;
      var pp = (a - b) * 100;
      return { text: (pp >= 0 ? "+" : "") + pp.toFixed(2) + " pp", sign: Math.sign(Math.round(pp * 100)) };
    }
    a = a || 0; b = b || 0;
    if (b === 0) return a === 0 ? { text: "0%", sign: 0 } : { text: "new", sign: Math.sign(a) };
    var rel = (a - b) / Math.abs(b) * 100;
    return { text: (rel >= 0 ? "+" : "") + rel.toFixed(1) + "%", sign: Math.sign(Math.round(rel * 10)) };
  }

  /* ---------- dates in the chosen time zone ---------- */
  function todayIn(tz) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }
  function addDays(day, n) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function daysBetween(a, b) { return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 864e5); }
  function presetRange(preset, tz) {
    var t = todayIn(tz);
    switch (preset) {
      case "today": return [t, t];
      case "yesterday": return [addDays(t, -1), addDays(t, -1)];
      case "last30": return [addDays(t, -29), t];
      default: return [addDays(t, -6), t];
    }
  }
  function previousRange() {
    var n = daysBetween(state.from, state.to) + 1;
    return [addDays(state.from, -n), addDays(state.to, -n)];
  }

  /* ---------- URL state (#preset=...&from=...): reload and share keep the view ---------- */
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    if (p.get("tz")) state.tz = p.get("tz");
    if (p.get("preset")) state.preset = p.get("preset");
    if (p.get("from") && p.get("to")) { state.from = p.get("from"); state.to = p.get("to"); }
    if (p.has("group")) state.groups = p.get("group").split(",").filter(function (g) { return DIM_LABEL[g]; }).slice(0, 3);
    if (p.get("sort")) {
      var s = p.get("sort").split(":");
      state.sort = { key: s[0], desc: s[1] !== "asc" };
    }
    state.compare = p.get("compare") === "1";
    if (p.get("refresh")) state.refresh = Math.max(5, Math.round(Number(p.get("refresh")) || 0));
  }
  function writeHash() {
    var p = new URLSearchParams();
    p.set("preset", state.preset);
    if (state.preset === "custom") { p.set("from", state.from); p.set("to", state.to); }
    p.set("tz", state.tz);
    p.set("group", state.groups.join(","));
    p.set("sort", state.sort.key + ":" + (state.sort.desc ? "desc" : "asc"));
    if (state.compare) p.set("compare", "1");
    if (state.refresh) p.set("refresh", String(state.refresh));
    history.replaceState(null, "", "#" + p.toString());
  }

  /* ---------- API ---------- */
  function apiError(res, body) {
    var reason = body && (body.reason || body.error) ? body.reason || body.error : res.statusText;
    var field = body && body.field ? " (" + body.field + ")" : "";
    return new Error("HTTP " + res.status + field + ": " + reason);
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok) throw apiError(res, body);
        return body;
      });
    });
  }
  function kpis(groupBy, filters, range, order) {
    var p = new URLSearchParams();
    p.set("group_by", groupBy);
    p.set("from", range[0]);
    p.set("to", range[1]);
    p.set("tz", state.tz);
    Object.keys(filters).forEach(function (k) { p.set(k, filters[k]); });
    if (order) p.set("order_by", order);
    p.set("limit", String(LIMIT));
    return getJSON("v1/kpis?" + p.toString());
  }
  function orderParam() {
    var key = state.sort.key;
    if (key === "name" || COLUMN[key] && COLUMN[key].derived) return null;
    return (state.sort.desc ? "-" : "") + key;
  }

  /* ---------- the tree of groups ---------- */
  function rowKey(dim, row) { return String(row[dim] === null || row[dim] === undefined ? "" : row[dim]); }
  function loadLevel(parent, level, gen) {
    var dim = state.groups[level];
    var filters = Object.assign({}, parent.filters || {});
    var cur = kpis(dim, filters, [state.from, state.to], orderParam());
    var prev = state.compare ? kpis(dim, filters, previousRange(), null) : Promise.resolve(null);
    return Promise.all([cur, prev]).then(function (answers) {
      if (gen !== generation) return;
      var answer = answers[0], before = answers[1];
      if (answer.currency) state.currency = answer.currency;
      noteAvailable(answer.rows.concat(answer.totals ? [answer.totals] : []));
      var prevByKey = {};
      if (before) before.rows.forEach(function (r) { prevByKey[rowKey(dim, r)] = r; });
      var old = {};
      (parent.children || []).forEach(function (n) { old[n.value] = n; });
      parent.children = answer.rows.map(function (r) {
        var value = rowKey(dim, r);
        var f = Object.assign({}, filters);
        f[dim] = value;
        var was = old[value];
        return {
          dim: dim, value: value, level: level, row: r, prev: prevByKey[value] || null, filters: f,
          expanded: !!(was && was.expanded), children: was ? was.children : null
        };
      });
      parent.truncated = answer.rows.length >= LIMIT;
      if (level === 0) {
        tree.totals = answer.totals || null;
        tree.prevTotals = before ? before.totals || null : null;
      }
      var again = parent.children.filter(function (n) { return n.expanded && level + 1 < state.groups.length; });
      return Promise.all(again.map(function (n) { return loadLevel(n, level + 1, gen); }));
    });
  }
  function noteAvailable(rows) {
    rows.forEach(function (r) { Object.keys(r).forEach(function (k) { state.available[k] = true; }); });
  }
  function visibleColumns() {
    return COLUMNS.filter(function (c) {
      if (state.columns.indexOf(c.key) < 0) return false;
      if (c.derived) return state.available.revenue && state.available.cost;
      return !c.optional || state.available[c.key];
    });
  }
  function sortNodes(nodes) {
    var key = state.sort.key, dir = state.sort.desc ? -1 : 1;
    nodes.sort(function (a, b) {
      if (key === "name") return dir * a.value.localeCompare(b.value, undefined, { numeric: true });
      var x = num(cellValue(a.row, key)), y = num(cellValue(b.row, key));
      if (x === y) return a.value.localeCompare(b.value);
      if (x === null) return 1;
      if (y === null) return -1;
      return dir * (x - y);
    });
    nodes.forEach(function (n) { if (n.children) sortNodes(n.children); });
  }
  function flatten(nodes, out) {
    nodes.forEach(function (n) {
      out.push(n);
      if (n.expanded && n.children) flatten(n.children, out);
    });
    return out;
  }

  /* ---------- rendering ---------- */
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function dimText(dim, value) {
    if (value === "") return dim === "ad_id" ? "(unattributed)" : "(none)";
    if (dim === "hour") return wallClockHour(value).replace("T", " ") + ":00";
    return value;
  }
  function renderHead(cols) {
    var head = $("head");
    head.textContent = "";
    var names = state.groups.map(function (g) { return DIM_LABEL[g]; }).join(" › ");
    var first = el("th", { "data-col": "name", class: "name sortable" });
    first.appendChild(el("span", {}, names));
    head.appendChild(first);
    cols.forEach(function (c) {
      var label = c.kind === "money" || c.kind === "money3" ? c.label + ", " + state.currency : c.label;
      head.appendChild(el("th", { "data-col": c.key, class: "num sortable", title: "Sort by " + c.label }, label));
    });
    Array.prototype.forEach.call(head.children, function (th) {
      if (th.getAttribute("data-col") === state.sort.key) {
        th.classList.add(state.sort.desc ? "sorted-desc" : "sorted-asc");
        th.setAttribute("aria-sort", state.sort.desc ? "descending" : "ascending");
      }
    });
  }
  function fillCells(tr, cols, row, prev) {
    cols.forEach(function (c) {
      var v = cellValue(row, c.key);
      var td = el("td", { "data-col": c.key, class: "num" });
      if (v !== null) td.setAttribute("data-value", String(v));
      var main = el("span", { class: "v" }, format(c, v));
      if (c.colour && v !== null) td.classList.add(Number(v) > 0 ? "pos" : Number(v) < 0 ? "neg" : "zero");
      if (c.key === "profit" && v !== null && micros(v) !== 0n) td.classList.add(micros(v) > 0n ? "pos-text" : "neg-text");
      td.appendChild(main);
      if (state.compare) {
        var d = delta(c, v, cellValue(prev, c.key));
        if (d) {
          var tone = d.sign === 0 || c.good === 0 ? "flat" : d.sign * c.good > 0 ? "up" : "down";
          td.appendChild(el("span", { class: "delta " + tone, "data-delta": d.text }, d.text));
        }
      }
      tr.appendChild(td);
    });
  }
  function render() {
    var cols = visibleColumns();
    sortNodes(tree.children);
    renderHead(cols);
    var body = $("rows");
    body.textContent = "";
    var rows = flatten(tree.children, []);
    rows.forEach(function (n) {
      var tr = el("tr", { "data-level": String(n.level), "data-dim": n.dim, "data-key": n.value,
                          class: "lvl" + n.level });
      if (state.selected === pathKey(n)) tr.classList.add("selected");
      var name = el("td", { class: "name" });
      name.style.paddingLeft = 8 + n.level * 18 + "px";
      if (n.level + 1 < state.groups.length) {
        var t = el("button", { type: "button", class: "toggle", "aria-expanded": String(n.expanded),
                               title: n.expanded ? "Collapse" : "Expand" }, n.expanded ? "▾" : "▸");
        t.addEventListener("click", function (ev) { ev.stopPropagation(); toggle(n); });
        name.appendChild(t);
      } else if (state.groups.length > 1) {
        name.appendChild(el("span", { class: "toggle-space" }));
      }
      var label = el("span", { class: "label", title: DIM_LABEL[n.dim] + ": " + n.value }, dimText(n.dim, n.value));
      name.appendChild(label);
      tr.appendChild(name);
      tr.addEventListener("click", function () { select(n); });
      fillCells(tr, cols, n.row, n.prev);
      body.appendChild(tr);
    });
    if (!rows.length) {
      var empty = el("tr", { class: "empty" });
      empty.appendChild(el("td", { colspan: String(cols.length + 1) }, "No traffic in this period."));
      body.appendChild(empty);
    }
    var foot = $("foot");
    foot.textContent = "";
    if (tree.totals) {
      var tr = el("tr", { class: "totals", "data-key": "__totals__" });
      tr.appendChild(el("td", { class: "name" }, "Total"));
      fillCells(tr, cols, tree.totals, tree.prevTotals);
      foot.appendChild(tr);
    }
    var shown = tree.children.length;
    $("meta").textContent = shown + " " + DIM_LABEL[state.groups[0]].toLowerCase() + (shown === 1 ? "" : "s") +
      (tree.truncated ? " (first " + LIMIT + ")" : "") + " · " + state.from + " – " + state.to + " · " + state.tz +
      (state.compare ? " · compared with " + previousRange().join(" – ") : "");
    renderColumnsPanel();
  }
  function pathKey(n) { return n ? JSON.stringify(n.filters) : null; }

  function toggle(n) {
    n.expanded = !n.expanded;
    if (n.expanded && !n.children) {
      var gen = generation;
      busy(true);
      loadLevel(n, n.level + 1, gen).then(function () { render(); busy(false); }, fail);
    } else {
      render();
    }
  }
  function select(n) {
    var key = pathKey(n);
    state.selectedNode = state.selected === key ? null : n;
    state.selected = state.selected === key ? null : key;
    render();
    loadChart();
  }

  /* ---------- chart ---------- */
  function wallClockHour(value) {
    // An hour from the API is an instant: with an offset, or naive meaning UTC (the project's rule).
    // Returns "YYYY-MM-DDTHH" on the report's time zone's wall clock.
    var s = String(value).replace(" ", "T");
    if (!/(Z|[+-]\d\d:?\d\d)$/.test(s)) s += "Z";
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: state.tz, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit" }).formatToParts(new Date(s));
    var get = function (t) { return parts.filter(function (p) { return p.type === t; })[0].value; };
    return get("year") + "-" + get("month") + "-" + get("day") + "T" + get("hour");
  }
  function bucketSeconds(value, hourly) {
    // Wall-clock time in the report's time zone, placed on a UTC axis so it displays unchanged.
    if (!hourly) return Date.parse(String(value).slice(0, 10) + "T00:00:00Z") / 1000;
    return Date.parse(wallClockHour(value) + ":00:00Z") / 1000;
  }
  function loadChart() {
    var hourly = daysBetween(state.from, state.to) < 3;
    var dim = hourly ? "hour" : "day";
    var filters = state.selectedNode ? state.selectedNode.filters : {};
    $("chart-title").textContent = hourly ? "Per hour" : "Per day";
    $("chart-scope").textContent = state.selectedNode
      ? Object.keys(filters).map(function (k) { return DIM_LABEL[k] + " " + dimText(k, filters[k]); }).join(" › ")
      : "All traffic";
    var gen = generation;
    return kpis(dim, filters, [state.from, state.to], dim).then(function (answer) {
      if (gen !== generation) return;
      var step = hourly ? 3600 : 86400;
      var start = Date.parse(state.from + "T00:00:00Z") / 1000;
      var end = Date.parse(addDays(state.to, 1) + "T00:00:00Z") / 1000;
      var xs = [], index = {};
      for (var t = start; t < end; t += step) { index[t] = xs.length; xs.push(t); }
      var series = [[], [], [], []].map(function () { return xs.map(function () { return 0; }); });
      answer.rows.forEach(function (r) {
        var i = index[bucketSeconds(r[dim], hourly)];
        if (i === undefined) return;
        series[0][i] = Number(r.clicks || 0);
        series[1][i] = Number(r.conversions || 0);
        series[2][i] = Number(r.revenue || 0);
        series[3][i] = Number(r.cost || 0);
      });
      document.body.setAttribute("data-chart-points", String(answer.rows.length));
      drawChart([xs].concat(series), hourly);
    });
  }
  function drawChart(data, hourly) {
    var box = $("chart");
    var width = Math.max(box.clientWidth - 8, 320);
    var money = function (u, vals) { return vals.map(function (v) { return v == null ? "" : v.toLocaleString("en-US"); }); };
    var opts = {
      width: width, height: 220, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true }, n: { auto: true }, m: { auto: true } },
      axes: [
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e5e7eb" },
          incrs: hourly ? [3600, 7200, 10800, 21600, 43200, 86400] : [86400, 172800, 604800, 1209600, 2592000],
          values: function (u, splits) {
          return splits.map(function (t) {
            var d = new Date(t * 1000), day = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
            return hourly ? (d.getUTCHours() === 0 ? day : String(d.getUTCHours()).padStart(2, "0") + ":00") : day;
          });
        } },
        { scale: "n", stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e5e7eb" }, size: 50 },
        { scale: "m", side: 1, stroke: "#6b7280", grid: { show: false }, values: money, size: 60 }
      ],
      series: [
        { value: hourly ? "{YYYY}-{MM}-{DD} {HH}:00" : "{YYYY}-{MM}-{DD}" },
        { label: "Clicks", scale: "n", stroke: "#2563eb", width: 2, fill: "rgba(37,99,235,0.10)", points: { show: false } },
        { label: "Conversions", scale: "n", stroke: "#7c3aed", width: 2, points: { show: false } },
        { label: "Revenue, " + state.currency, scale: "m", stroke: "#16a34a", width: 2, points: { show: false } },
        { label: "Cost, " + state.currency, scale: "m", stroke: "#dc2626", width: 2, dash: [6, 4], points: { show: false } }
      ]
    };
    if (chart) chart.destroy();
    box.textContent = "";
    chart = new uPlot(opts, data, box);
  }

  /* ---------- freshness ---------- */
  function ago(seconds) {
    if (seconds < 60) return Math.round(seconds) + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " days";
  }
  function loadFreshness() {
    return getJSON("v1/freshness").then(function (f) {
      var box = $("freshness"), text = box.querySelector("span");
      box.classList.remove("fresh", "stale", "old");
      if (f.age_seconds === null || f.age_seconds === undefined) {
        box.classList.add("old");
        text.textContent = "No events in " + f.window_days + " days";
      } else {
        box.classList.add(f.age_seconds < 120 ? "fresh" : f.age_seconds < 3600 ? "stale" : "old");
        text.textContent = "Newest event " + ago(f.age_seconds) + " ago";
        box.title = "Newest event received " + f.newest_received_at + ", stored " + f.newest_inserted_at;
      }
      box.setAttribute("data-age", String(f.age_seconds));
    }, function () { $("freshness").querySelector("span").textContent = "freshness unknown"; });
  }

  /* ---------- CSV of what is shown ---------- */
  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = "'" + s;  // no formulas in spreadsheets
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function csv() {
    var cols = visibleColumns();
    var header = state.groups.map(function (g) { return g; }).concat(cols.map(function (c) { return c.key; }));
    var lines = [header.map(csvCell).join(",")];
    flatten(tree.children, []).forEach(function (n) {
      var dims = state.groups.map(function (g) { return n.filters[g] === undefined ? "" : n.filters[g]; });
      lines.push(dims.concat(cols.map(function (c) { return cellValue(n.row, c.key); })).map(csvCell).join(","));
    });
    if (tree.totals) {
      var dims = state.groups.map(function (g, i) { return i === 0 ? "Total" : ""; });
      lines.push(dims.concat(cols.map(function (c) { return cellValue(tree.totals, c.key); })).map(csvCell).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }
  function exportCsv() {
    var blob = new Blob([csv()], { type: "text/csv;charset=utf-8" });
    var a = el("a", { href: URL.createObjectURL(blob), download: "adpulse-" + state.from + "_" + state.to + ".csv" });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  /* ---------- controls ---------- */
  function renderColumnsPanel() {
    var panel = $("columns-panel");
    if (!panel.hidden) return;
    panel.textContent = "";
    COLUMNS.forEach(function (c) {
      if (c.optional && !state.available[c.key]) return;
      var label = el("label", {});
      var box = el("input", { type: "checkbox", value: c.key });
      box.checked = state.columns.indexOf(c.key) >= 0;
      box.addEventListener("change", function () {
        state.columns = COLUMNS.map(function (x) { return x.key; }).filter(function (k) {
          var b = panel.querySelector('input[value="' + k + '"]');
          return b ? b.checked : state.columns.indexOf(k) >= 0;
        });
        try { localStorage.setItem(STORE, JSON.stringify(state.columns)); } catch (e) { /* private mode */ }
        render();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + c.label));
      panel.appendChild(label);
    });
  }
  function fillGroupSelects() {
    ["g1", "g2", "g3"].forEach(function (id, i) {
      var sel = $(id);
      sel.textContent = "";
      if (i > 0) sel.appendChild(el("option", { value: "" }, "—"));
      DIMENSIONS.forEach(function (d) { sel.appendChild(el("option", { value: d[0] }, d[1])); });
      sel.value = state.groups[i] || "";
      sel.disabled = i > 0 && !state.groups[i - 1];
      sel.onchange = function () {
        var groups = ["g1", "g2", "g3"].map(function (x) { return $(x).value; });
        var cut = groups.indexOf("");
        groups = (cut < 0 ? groups : groups.slice(0, cut)).filter(function (g, j, all) { return all.indexOf(g) === j; });
        state.groups = groups;
        state.selected = null; state.selectedNode = null;
        tree.children = [];
        fillGroupSelects();
        load();
      };
    });
  }
  function fillTimeZones() {
    var sel = $("tz");
    var local = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    var zones = ["UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Chicago",
      "America/Los_Angeles", "America/Sao_Paulo", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
      "Australia/Sydney"];
    [local, state.tz].forEach(function (z) { if (zones.indexOf(z) < 0) zones.unshift(z); });
    zones.forEach(function (z) { sel.appendChild(el("option", { value: z }, z)); });
    sel.value = state.tz;
    sel.onchange = function () {
      state.tz = sel.value;
      if (state.preset !== "custom") setPreset(state.preset);
      load();
    };
  }
  function setPreset(preset) {
    state.preset = preset;
    if (preset !== "custom") {
      var r = presetRange(preset, state.tz);
      state.from = r[0]; state.to = r[1];
    }
    $("from").value = state.from; $("to").value = state.to;
    Array.prototype.forEach.call($("presets").querySelectorAll("button"), function (b) {
      b.classList.toggle("active", b.getAttribute("data-preset") === preset);
    });
    document.querySelector(".range").classList.toggle("custom", preset === "custom");
  }
  function setRefresh(seconds) {
    state.refresh = seconds;
    var sel = $("autorefresh");
    if (!sel.querySelector('option[value="' + seconds + '"]')) sel.appendChild(el("option", { value: String(seconds) }, seconds + " s"));
    sel.value = String(seconds);
    if (timer) clearInterval(timer);
    timer = seconds ? setInterval(function () { if (document.body.getAttribute("data-state") !== "loading") load(); }, seconds * 1000) : null;
  }
  function busy(on) { document.body.setAttribute("data-state", on ? "loading" : "ready"); }
  function fail(err) {
    var box = $("error");
    box.hidden = false;
    box.textContent = err && err.message ? err.message : String(err);
    document.body.setAttribute("data-state", "error");
  }

  function load() {
    generation += 1;
    var gen = generation;
    writeHash();
    busy(true);
    $("error").hidden = true;
    var table = loadLevel(tree, 0, gen).then(function () { if (gen === generation) render(); });
    return Promise.all([table, loadChart(), loadFreshness()]).then(function () {
      if (gen === generation) {
        busy(false);
        document.body.setAttribute("data-loaded-at", new Date().toISOString());
      }
    }, fail);
  }

  function init() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || "null");
      if (Array.isArray(saved)) state.columns = saved.filter(function (k) { return COLUMN[k]; });
    } catch (e) { /* unreadable: keep defaults */ }
    state.tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    readHash();
    if (!state.groups.length) state.groups = ["source"];
    fillTimeZones();
    fillGroupSelects();
    if (state.preset === "custom" && state.from && state.to) setPreset("custom"); else setPreset(state.preset);
    $("compare").checked = state.compare;
    setRefresh(state.refresh);

    $("presets").addEventListener("click", function (ev) {
      var p = ev.target.getAttribute && ev.target.getAttribute("data-preset");
      if (!p) return;
      setPreset(p);
      if (p !== "custom") load(); else $("from").focus();
    });
    $("apply-range").addEventListener("click", function () {
      var f = $("from").value, t = $("to").value;
      if (!f || !t) return fail(new Error("Choose both dates of the custom range."));
      if (f > t) { var x = f; f = t; t = x; }
      state.from = f; state.to = t;
      setPreset("custom");
      load();
    });
    ["from", "to"].forEach(function (id) {
      $(id).addEventListener("change", function () { if (state.preset !== "custom") setPreset("custom"); });
    });
    $("compare").addEventListener("change", function () { state.compare = $("compare").checked; load(); });
    $("autorefresh").addEventListener("change", function () { setRefresh(Number($("autorefresh").value)); writeHash(); });
    $("reload").addEventListener("click", function () { load(); });
    $("export").addEventListener("click", exportCsv);
    $("head").addEventListener("click", function (ev) {
      var th = ev.target.closest("th");
      if (!th) return;
      var key = th.getAttribute("data-col");
      state.sort = state.sort.key === key ? { key: key, desc: !state.sort.desc } : { key: key, desc: key !== "name" };
      writeHash();
      load();
    });
    $("columns-button").addEventListener("click", function (ev) {
      ev.stopPropagation();
      var panel = $("columns-panel");
      if (panel.hidden) { panel.hidden = false; } else { panel.hidden = true; renderColumnsPanel(); }
      if (!panel.hidden && !panel.children.length) { panel.hidden = true; renderColumnsPanel(); panel.hidden = false; }
    });
    document.addEventListener("click", function (ev) {
      var panel = $("columns-panel");
      if (!panel.hidden && !ev.target.closest("#columns-menu")) { panel.hidden = true; renderColumnsPanel(); }
    });
    window.addEventListener("hashchange", function () {  // a pasted or edited link: show that view
      readHash();
      if (!$("tz").querySelector('option[value="' + state.tz + '"]')) $("tz").appendChild(el("option", { value: state.tz }, state.tz));
      $("tz").value = state.tz;
      if (state.preset === "custom" && state.from && state.to) setPreset("custom"); else setPreset(state.preset);
      $("compare").checked = state.compare;
      state.selected = null; state.selectedNode = null;
      tree.children = [];
      fillGroupSelects();
      load();
    });
    window.addEventListener("resize", function () { if (chart) chart.setSize({ width: Math.max($("chart").clientWidth - 8, 320), height: 220 }); });
    load();
  }

  window.adpulseDashboard = { state: state, csv: csv, load: load, chartData: function () { return chart ? chart.data : null; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
