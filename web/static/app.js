// ceptor-web's page: polls /api/incidents, /api/graph and /api/status every
// 2 s and redraws.  Text from the data (titles come from rules and operator
// reports) only ever goes through textContent or setAttribute, never markup.
"use strict";

const POLL_MS = 2000;
const SVG_NS = "http://www.w3.org/2000/svg";
const COLOURS = { hit: "#d32f2f", predicted: "#f57c00", none: "#cfd8dc" };
let polls = 0;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function showError(id, message) {
  const p = document.getElementById(id);
  p.textContent = message || "";
  p.hidden = !message;
}

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    throw new Error(path + ": " + (body && body.error ? body.error : r.status + " " + r.statusText));
  }
  return body;
}

// "2026-03-02T08:00:00.000000Z" -> "2026-03-02 08:00:00"
function shortTime(t) {
  // Non-breaking hyphens: the date wraps as a whole, not at each "-".
  return t ? t.replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "").replace(/-/g, "\u2011") : "";
}

function delay(s) {
  if (s < 60) return s + "s";
  if (s < 3600) return Math.round(s / 60) + "m";
  const h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
  return m ? h + "h" + m + "m" : h + "h";
}

function drawIncidents(doc) {
  const body = document.querySelector("#incidents tbody");
  const rows = doc.incidents.map((inc) => {
    const tr = el("tr", { class: "incident", "data-id": inc.id, "data-rank": inc.rank,
                          "data-priority": inc.priority });
    tr.append(el("td", { class: "num" }, inc.rank));
    const id = el("td", { class: "id" });
    id.append(el("span", { class: "prio " + inc.priority }, inc.priority), " ",
              el("span", {}, inc.id + " v" + inc.version));
    tr.append(id);
    tr.append(el("td", { class: "num" }, inc.score.toFixed(3)));
    tr.append(el("td", { class: "num" }, inc.confidence.toFixed(2)));
    tr.append(el("td", {}, inc.sector));
    const title = el("td", { class: "title" });
    title.append(el("div", {}, inc.title));
    if (inc.impact.length) {
      title.append(el("div", { class: "spread" }, "spreads to " +
        inc.impact.map((i) => i.sector + " in " + delay(i.delay_s)).join(", ")));
    }
    tr.append(title);
    tr.append(el("td", {}, inc.tlp));
    tr.append(el("td", { class: "time" }, shortTime(inc.last_seen)));
    return tr;
  });
  body.replaceChildren(...rows);
  document.getElementById("incident-count").textContent =
    "(" + doc.open + " open, " + doc.closed + " closed not shown)";
  document.getElementById("no-incidents").hidden = doc.incidents.length > 0;
}

// Sectors on a circle; each edge a slightly bent arrow, so that u->v and
// v->u do not overlap, labelled with its weight.
function drawGraph(doc) {
  const g = document.getElementById("graph");
  const cx = 240, cy = 225, R = 175, r = 24;
  const pos = {};
  doc.sectors.forEach((s, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / doc.sectors.length;
    pos[s.name] = { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a) };
  });
  const parts = [];
  const defs = svg("defs");
  for (const [name, colour] of [["plain", "#90a4ae"], ["spread", COLOURS.predicted]]) {
    const m = svg("marker", { id: "arrow-" + name, viewBox: "0 0 10 10", refX: 9, refY: 5,
                              markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    m.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour }));
    defs.append(m);
  }
  parts.push(defs);
  const edges = svg("g", { class: "edges" });
  for (const e of doc.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const ux = dx / len, uy = dy / len;
    const x1 = a.x + ux * r, y1 = a.y + uy * r, x2 = b.x - ux * (r + 2), y2 = b.y - uy * (r + 2);
    const mx = (x1 + x2) / 2 - uy * 14, my = (y1 + y2) / 2 + ux * 14;
    const colour = e.spread ? COLOURS.predicted : "#90a4ae";
    const p = svg("path", {
      d: `M${x1.toFixed(1)},${y1.toFixed(1)} Q${mx.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}`,
      fill: "none", stroke: colour, "stroke-width": e.spread ? 2.5 : 0.5 + 1.5 * e.weight,
      "marker-end": `url(#arrow-${e.spread ? "spread" : "plain"})`,
      class: "edge" + (e.spread ? " spread" : ""), "data-from": e.from, "data-to": e.to,
    });
    p.append(svg("title", {}, `${e.from} -> ${e.to}: weight ${e.weight}, delay ${e.delay}`));
    edges.append(p);
    edges.append(svg("text", { class: "weight", x: (mx * 2 + x1 + x2) / 4, y: (my * 2 + y1 + y2) / 4,
                               "text-anchor": "middle" }, e.weight.toFixed(2)));
  }
  parts.push(edges);
  const nodes = svg("g", { class: "sectors" });
  for (const s of doc.sectors) {
    const p = pos[s.name];
    const node = svg("g", { class: "sector " + s.state, "data-sector": s.name, "data-state": s.state });
    node.append(svg("circle", { cx: p.x, cy: p.y, r: r, fill: COLOURS[s.state] || COLOURS.none,
                                stroke: "#37474f", "stroke-width": 1 }));
    node.append(svg("text", { x: p.x, y: p.y + r + 13, "text-anchor": "middle", class: "label",
                              stroke: "#ffffff", "stroke-width": 3, "paint-order": "stroke" }, s.name));
    if (s.incidents || s.predicted_by) {
      node.append(svg("text", { x: p.x, y: p.y + 4, "text-anchor": "middle" },
                      s.incidents ? String(s.incidents) : "(" + s.predicted_by + ")"));
    }
    node.append(svg("title", {}, `${s.name}: criticality ${s.criticality}, blast radius ${s.blast}; ` +
                                 `${s.incidents} incident(s), predicted by ${s.predicted_by}`));
    nodes.append(node);
  }
  parts.push(nodes);
  g.replaceChildren(...parts);
  g.setAttribute("data-hit", doc.hit.join(" "));
  g.setAttribute("data-predicted", doc.predicted.join(" "));
  showError("graph-error", doc.incidents_error ? "incidents: " + doc.incidents_error : "");
}

function drawStatus(doc) {
  const badge = document.getElementById("engine");
  badge.textContent = "engine " + (doc.site ? doc.site + ": " : "") +
    (doc.stale && doc.state === "running" ? "not answering" : doc.state) +
    ", events " + doc.engine.events + ", open incidents " + doc.engine.incidents_open;
  badge.className = "badge " + (doc.running ? "running" : "down");
  const rows = doc.inputs.map((inp) => {
    const tr = el("tr", { class: "input " + (inp.alive ? "live" : "dead"), "data-name": inp.name,
                          "data-alive": inp.alive ? "true" : "false" });
    tr.append(el("td", {}, inp.name), el("td", {}, inp.kind), el("td", {}, inp.state),
              el("td", { class: "num events" }, inp.events), el("td", { class: "num drops" }, inp.drops),
              el("td", { class: "num" }, inp.fill_pct.toFixed(1) + " %"),
              el("td", { class: "alive" }, inp.alive ? "alive" : "down (" + inp.producer + ")"));
    return tr;
  });
  document.querySelector("#collectors tbody").replaceChildren(...rows);
}

async function refresh(path, draw, errorId) {
  try {
    const doc = await getJSON(path);
    showError(errorId, "");
    draw(doc);
  } catch (e) {
    showError(errorId, e.message);
  }
}

async function poll() {
  await Promise.all([
    refresh("/api/incidents", drawIncidents, "incidents-error"),
    refresh("/api/graph", drawGraph, "graph-error"),
    refresh("/api/status", drawStatus, "status-error"),
  ]);
  polls++;
  document.body.setAttribute("data-polls", String(polls));
  document.getElementById("refreshed").textContent =
    "refreshed " + new Date().toLocaleTimeString() + " (every " + POLL_MS / 1000 + " s)";
  setTimeout(poll, POLL_MS);
}

poll();
