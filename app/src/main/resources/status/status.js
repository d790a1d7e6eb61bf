// The status page: renders one snapshot of /api/status; updates arrive as server-sent events from
// /api/events, with polling as the fallback when a proxy breaks the event stream.
"use strict";

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "");
const secs = (a, b) => (a && b ? ((b - a) / 1000).toFixed(1) + " s" : "");
const more = (n, what) => (n > 0 ? `<p class="muted more">and ${n.toLocaleString("en")} more ${what}</p>` : "");
const state = (s, extra = "") => `<span class="state ${esc(s)}" data-state="${esc(s)}"${extra}>${esc(s)}</span>`;

// Who this page acts as (GET /api/session): the actions the token may take and the page token they carry.
let session = { signedIn: false, may: {} };
const can = (action) => Boolean(session.signedIn && session.may && session.may[action]);
// A button for one action; its JSON body travels in data-body, and a confirm() guards what cannot be undone.
const act = (action, label, body, confirmText = "") => (can(action)
  ? `<button class="act${confirmText ? " danger" : ""}" data-action="${esc(action)}" data-body="${esc(JSON.stringify(body))}"${
    confirmText ? ` data-confirm="${esc(confirmText)}"` : ""}>${esc(label)}</button>` : "");
const terminal = (s) => ["LANDED", "ERROR", "CANCELLED", "SUCCEEDED", "FAILED"].includes(s);

function control(q) {
  const c = q.control || { state: "ACTIVE" };
  const who = c.changedBy ? ` by ${esc(c.changedBy)} ${time(c.changedAt)}${c.reason ? ": " + esc(c.reason) : ""}` : "";
  const body = { queue: q.name };
  return `<div class="control" data-state="${esc(c.state)}">queue ${esc(c.state.toLowerCase())}${who}
    ${c.state !== "PAUSED" ? act("pause-queue", "Pause", body) : ""}
    ${c.state !== "ACTIVE" ? act("resume-queue", "Resume", body) : ""}
    ${c.state !== "DRAINING" ? act("drain-queue", "Drain", body, `Drain ${q.name}? New lands are refused until it is resumed.`) : ""}</div>`;
}

function queues(list) {
  if (!list.length) return '<p class="muted">No merge queue configured (queue.&lt;name&gt;.* settings).</p>';
  return list.map((q) => `
    <div class="card queue" data-queue="${esc(q.name)}">
      <h3>${esc(q.name)}</h3>
      ${control(q)}
      <div class="chips">${Object.entries(q.counts).map(([s, n]) => `<span>${state(s)} ${n}</span>`).join("")
        || '<span class="muted">no requests yet</span>'}</div>
      ${health(q.mainHealth)}
      ${analytics(q.analytics)}
      ${requests(q.requests)}${more(q.omittedRequests, "requests")}
      ${graph(q.batches)}
      ${batches(q.batches)}${more(q.omittedBatches, "batches")}
    </div>`).join("");
}

const dur = (ms) => (ms == null ? "–" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : (ms / 60000).toFixed(1) + " min");

// What post-merge verification last found on the target branch.
function health(h) {
  if (!h) return "";
  const short = (sha) => esc((sha || "").slice(0, 12));
  const text = h.state === "UNVERIFIED" ? "not verified after merge (no post-merge-command, or nothing landed yet)"
    : `${h.state} at <code>${short(h.sha)}</code> (batch ${esc(h.batch)}, ${time(h.checkedAt)})`
      + (h.state === "RED" ? ` <span class="reason">${esc(h.reason)}</span>` : "")
      + (h.lastGreen ? ` · last green <code>${short(h.lastGreen)}</code>` : "");
  return `<div class="main-health" data-health="${esc(h.state)}">main: ${text}</div>`;
}

// The last day of one queue: figures, failures by kind, and landed per hour as bars (oldest hour first).
function analytics(a) {
  if (!a) return "";
  const peak = Math.max(1, ...a.landedPerHour);
  const bars = a.landedPerHour.map((n, i) => `<rect x="${i * 10}" y="${40 - (40 * n) / peak}" width="8"
    height="${(40 * n) / peak}" data-landed="${n}"><title>${n} landed, ${23 - i} h ago</title></rect>`).join("");
  const kinds = Object.entries(a.failures).map(([k, n]) => `<span class="chip" data-kind="${esc(k)}">${esc(k)} ${n}</span>`)
    .join("") || '<span class="muted">none</span>';
  return `<div class="analytics" data-analytics>
    <span>last ${a.windowHours} h:</span>
    <span>landed <b data-metric="landed">${a.landed}</b></span>
    <span>failed <b data-metric="failed">${a.failed}</b></span>
    <span>time in queue p50 <b data-metric="p50">${dur(a.timeInQueueMs.p50)}</b> p90 <b data-metric="p90">${dur(a.timeInQueueMs.p90)}</b></span>
    <span>builds per landed <b data-metric="builds-per-landed">${a.buildsPerLanded ?? "–"}</b></span>
    <span>failures ${kinds}</span>
    <svg class="landed-per-hour" width="240" height="40" viewBox="0 0 240 40" role="img"
      aria-label="landed per hour, last 24 hours">${bars}</svg>
  </div>`;
}

function requests(list) {
  if (!list.length) return "";
  return `<h3>Requests</h3><table class="requests"><tr><th>Request</th><th>State</th><th>Change</th><th>Timeline</th></tr>
    ${list.map((r) => `<tr class="request" data-request-id="${esc(r.id)}" data-state="${esc(r.state)}">
      <td><a class="request-link" href="/requests/${encodeURI(r.id)}"><b>${esc(r.id)}</b></a>${r.priority ? ` <span class="priority" title="priority">p${esc(r.priority)}</span>` : ""}${r.batch ? `<br><span class="muted">${esc(r.batch)}</span>` : ""}</td>
      <td>${state(r.state)}${r.reason ? `<div class="reason">${esc(r.reason)}</div>` : ""}
        ${terminal(r.state) || r.state === "CANCELLING" ? "" : act("cancel-request", "Cancel", { request: r.id }, `Cancel ${r.id}?`)}</td>
      <td>${r.changes.map((c) => `<code>${esc(c)}</code>`).join("<br>")}${r.omittedChanges ? `<br><span class="muted">+${r.omittedChanges} more</span>` : ""}</td>
      <td><div class="timeline">${r.timeline.map((t) =>
        `<span class="step" title="${esc(t.reason)}">${esc(t.state)} <span class="muted">${time(t.at)}</span></span>`).join("")}</div>
        ${(r.builds || []).length ? `<div class="attempts">${r.omittedBuilds ? `<span class="muted">+${r.omittedBuilds} earlier</span> ` : ""}${r.builds.map((b) =>
          `<span class="attempt" data-state="${esc(b.state)}" data-verdict="${b.verdictFromClaim ? "claim" : "pending"}" title="${esc(b.reason)}">build ${esc(b.job)} (${esc(b.batch)}) ${state(b.state)}
            <span class="muted">${secs(b.startedAt, b.finishedAt)}</span>
            <a class="build-log" href="${esc(b.log)}" target="_blank" rel="noopener">log</a>
            <a class="build-view" href="/builds/${encodeURIComponent(b.job)}">follow</a></span>`).join(" ")}</div>` : ""}</td>
    </tr>`).join("")}</table>`;
}

// Batches left to right in queue order; an arc from a batch to each batch it waits for.
function graph(list) {
  if (!list.length) return "";
  const ordered = [...list].sort((a, b) => a.position - b.position);
  const x = new Map(ordered.map((b, i) => [b.id, 40 + i * 110]));
  const width = 80 + (ordered.length - 1) * 110, y = 70;
  const edges = ordered.flatMap((b) => b.dependsOn.filter((d) => x.has(d)).map((d) => {
    const x1 = x.get(b.id), x2 = x.get(d), h = Math.min(60, 15 + Math.abs(x1 - x2) / 4);
    return `<path class="edge" d="M${x1},${y - 12} Q${(x1 + x2) / 2},${y - 12 - h} ${x2},${y - 12}"
      fill="none" stroke="#94a3b8" marker-end="url(#arrow)"/>`;
  }));
  const nodes = ordered.map((b) => `<g class="node" data-batch="${esc(b.id)}">
      <circle cx="${x.get(b.id)}" cy="${y}" r="11" class="${esc(b.state)}"
        fill="${b.state === "SUCCEEDED" ? "#34d399" : b.state === "FAILED" ? "#f87171" : b.state === "CANCELLED" ? "#d1d5db" : "#60a5fa"}"/>
      <text x="${x.get(b.id)}" y="${y + 26}" text-anchor="middle">${esc(b.id)}</text></g>`);
  return `<h3>Dependency graph</h3><svg class="graph" width="${width}" height="110">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
    <path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>${edges.join("")}${nodes.join("")}</svg>`;
}

function batches(list) {
  if (!list.length) return "";
  return `<h3>Batches and speculation paths</h3><table class="batches">
    <tr><th>Batch</th><th>State</th><th>Members</th><th>Waits for</th><th>Paths (assumptions → build)</th></tr>
    ${list.map((b) => `<tr class="batch" data-batch-id="${esc(b.id)}" data-state="${esc(b.state)}">
      <td>${esc(b.id)}</td><td>${state(b.state)}${b.reason ? `<div class="reason">${esc(b.reason)}</div>` : ""}</td>
      <td>${b.members.map(esc).join(", ")}</td><td>${b.dependsOn.map(esc).join(", ") || '<span class="muted">nothing</span>'}</td>
      <td>${b.paths.map((p) => `<div class="path" data-state="${esc(p.state)}">
        ${p.assumptions.length ? p.assumptions.map((a) => `<code>${esc(a.replace("=1", " lands").replace("=0", " fails"))}</code>`).join(" ")
          : '<span class="muted">no assumptions</span>'} → ${state(p.state)}
        ${p.build.job ? `<span class="muted">build ${esc(p.build.job)} ${esc(p.build.state)} ${secs(p.build.startedAt, p.build.finishedAt)}
          ${p.build.worker ? "on " + esc(p.build.worker) : ""}
          ${p.build.log ? `<a class="build-log" href="${esc(p.build.log)}" target="_blank" rel="noopener">log</a>` : ""}</span>` : ""}
        ${p.build.reason ? `<div class="reason">${esc(p.build.reason)}</div>` : ""}</div>`).join("")}</td>
    </tr>`).join("")}</table>`;
}

function captures(list) {
  if (!list.length) return '<p class="muted">No captures yet: conveyor capture add-table NAME DIR, then conveyor capture start NAME.</p>';
  return list.map((root) => `<div class="card capture-tree" data-job-id="${esc(root.id)}" data-state="${esc(root.state)}">
      <h3><a class="capture-link" href="/captures/${encodeURIComponent(root.id)}">${esc(root.table || root.id)}</a> ${state(root.state)}
        ${terminal(root.state) || root.state === "CANCELLED" ? "" : act("cancel-capture", "Cancel", { job: root.id }, `Cancel this capture of ${root.table || root.id}?`)}
        <span class="muted">${root.nodes} jobs: ${Object.entries(root.states).map(([s, n]) => `${n} ${esc(s)}`).join(", ")}</span></h3>
      ${(root.snapshots || []).map(completeness).join("")}
      <ul class="tree root">${job(root)}</ul>
      ${root.omitted ? `<p class="muted">${root.omitted} more jobs not shown</p>` : ""}</div>`).join("");
}

// "partial: 6 of 8 files; 2 unreadable: a.parquet (truncated: …)": roll-ups cover only the captured files
function completeness(c) {
  const name = (p) => p.split("/").pop();
  const files = c.unreadable.map((u) => `<code>${esc(name(u.path))}</code> (${esc(u.cause.toLowerCase().replace("_", " "))}: ${esc(u.message)})`);
  const rest = c.unreadableTotal - c.unreadable.length;
  return `<div class="completeness" data-partial="${c.partial}" data-snapshot="${esc(c.snapshot)}">
    <b>${c.partial ? "partial" : "complete"}</b>: ${c.captured} of ${c.planned} files
    ${c.unreadableTotal ? `; ${c.unreadableTotal} unreadable: ${files.join(", ")}${rest > 0 ? ` and ${rest} more` : ""}` : ""}</div>`;
}

function job(j) {
  const p = j.progress, pct = p.total > 0 ? Math.round((100 * p.done) / p.total) : (j.state === "SUCCEEDED" ? 100 : 0);
  return `<li class="job" data-job-id="${esc(j.id)}" data-kind="${esc(j.kind)}" data-state="${esc(j.state)}">
    <b>${esc(j.kind)}</b> ${state(j.state)} <span class="bar" title="${pct}%"><i style="width:${pct}%"></i></span>
    ${p.total > 0 ? `${p.done}/${p.total}` : ""} <span class="muted">${esc(j.id)} · attempt ${j.attempts}/${j.maxAttempts}
    ${j.worker ? "· held by " + esc(j.worker) : ""} ${secs(j.startedAt, j.finishedAt)}</span>
    ${j.error && j.state !== "SUCCEEDED" ? `<div class="reason">${esc(j.error)}</div>` : ""}
    ${j.children.length ? `<ul class="tree">${j.children.map(job).join("")}</ul>` : ""}</li>`;
}

function topics(list) {
  if (!list.length) return '<p class="muted">No topics yet.</p>';
  const plain = list.filter((t) => !t.deadLetter), dead = list.filter((t) => t.deadLetter);
  return `<table class="topics"><tr><th>Topic</th><th>Partitions</th><th>Published</th><th>Consumer groups (lag)</th></tr>
    ${plain.map((t) => `<tr class="topic" data-topic="${esc(t.topic)}"><td><a href="/topics/${encodeURIComponent(t.topic)}">${esc(t.topic)}</a></td><td>${t.partitions ?? ""}</td>
      <td>${t.published ?? ""}</td><td>${t.groups.map((g) => `<span class="group" data-group="${esc(g.group)}" data-lag="${g.lag}">
        ${esc(g.group)} <b>${g.lag}</b>${g.headError ? ` <span class="reason">retrying: ${esc(g.headError)}</span>` : ""}</span>`).join("<br>")}</td></tr>`).join("")}
    </table>
    <h3>Dead letters</h3>${dead.filter((t) => t.retained > 0).map((t) => `<div class="card dlq" data-topic="${esc(t.topic)}">
      <b><a href="/topics/${encodeURIComponent(t.topic)}">${esc(t.topic)}</a></b> <span class="muted">${t.retained} retained${t.omittedLetters > 0 ? `, newest ${t.letters.length} shown` : ""}</span>
      <table><tr><th>#</th><th>Original</th><th>Group</th><th>Attempts</th><th>Error</th><th>Dead at</th><th></th></tr>
      ${t.letters.map((l) => `<tr class="dead-letter" data-seq="${l.seq}"><td>${l.seq}</td><td><code>${esc(l.original)}</code></td>
        <td>${esc(l.group)}</td><td>${l.attempts ?? ""}</td><td class="reason">${esc(l.error)}</td><td>${time(l.deadAt)}</td>
        <td>${act("redrive-dead-letter", "Redrive", { topic: t.topic, seq: l.seq })}${act("discard-dead-letter", "Discard",
          { topic: t.topic, seq: l.seq }, `Discard dead letter ${l.seq} of ${t.topic} for good?`)}</td></tr>`).join("")}
      </table></div>`).join("") || '<p class="muted">None.</p>'}`;
}

function audit(list) {
  if (!list || !list.length) return '<p class="muted">No actions taken from this page yet.</p>';
  return `<table class="audit"><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Outcome</th><th>Detail</th></tr>
    ${list.map((e) => `<tr class="audit-entry" data-action="${esc(e.action)}" data-outcome="${esc(e.outcome)}" data-actor="${esc(e.actor)}">
      <td>${new Date(e.at).toLocaleString()}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td><td><code>${esc(e.target)}</code></td>
      <td>${esc(e.outcome)}</td><td>${esc(e.detail)}</td></tr>`).join("")}</table>
    <p><a href="/audit">older entries…</a></p>`;
}

let last = null;
function render(s) {
  last = s;
  document.getElementById("node").textContent = `${s.node} · ${s.ledger} · last change ${time(s.changedAt)}`;
  const omitted = s.omitted || {};
  document.getElementById("queues-body").innerHTML = queues(s.queues) + more(omitted.queues, "queues");
  document.getElementById("captures-body").innerHTML = captures(s.captures) + more(omitted.captures, "captures");
  document.getElementById("topics-body").innerHTML = topics(s.topics) + more(omitted.topics, "topics");
  document.getElementById("audit-body").innerHTML = audit(s.audit);
  document.body.dataset.changedAt = s.changedAt;
}

function live(mode) {
  const el = document.getElementById("live");
  el.dataset.live = mode;
  el.textContent = { live: "live", polling: "polling", offline: "server unreachable" }[mode];
}

async function poll() {
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (!r.ok) throw new Error(await r.text());
    render(await r.json());
    live("polling");
  } catch (e) {
    live("offline");
  }
  setTimeout(poll, 2000);
}

function flash(ok, message) {
  const el = document.getElementById("flash");
  el.hidden = false;
  el.dataset.ok = String(ok);
  el.textContent = message;
}

async function loadSession() {
  try {
    const r = await fetch("/api/session", { cache: "no-store" });
    session = r.ok ? await r.json() : { signedIn: false, reason: await r.text() };
  } catch (e) {
    session = { signedIn: false, reason: "server unreachable" };
  }
  const el = document.getElementById("session");
  el.dataset.signedIn = String(session.signedIn);
  el.textContent = session.signedIn ? `signed in as ${session.subject}` : "read-only";
  el.title = session.signedIn ? `roles: ${session.roles.join(", ")}` : session.reason || "";
  if (last && overview) render(last);
  if (!overview && typeof refreshPage === "function") refreshPage();
}

// Every action button: POST /api/actions/<action> as JSON with the page token; the answer shows in #flash and
// the snapshot (with the audit log) follows by the event stream.
document.addEventListener("click", async (e) => {
  const b = e.target.closest("button.act");
  if (!b) return;
  if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
  b.disabled = true;
  try {
    const r = await fetch(`/api/actions/${b.dataset.action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Conveyor-Csrf": session.csrf || "" },
      body: b.dataset.body,
    });
    const out = await r.json().catch(() => ({ ok: false, message: `${r.status} ${r.statusText}` }));
    flash(Boolean(out.ok), out.message || (out.ok ? "done" : "refused"));
    if (typeof refreshPage === "function" && !overview) refreshPage();
    if (r.status === 403 && /page token/.test(out.message || "")) loadSession();
  } catch (err) {
    flash(false, `not sent: ${err}`);
  } finally {
    b.disabled = false;
  }
});

// a token given once as ?token= is now in an HttpOnly cookie: keep it out of the address bar and history
if (new URLSearchParams(location.search).has("token")) {
  const q = new URLSearchParams(location.search);
  q.delete("token");
  history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : "") + location.hash);
}
loadSession();

const overview = location.pathname === "/" || location.pathname === "/index.html";
if (!overview) {
  document.getElementById("overview").hidden = true;
  const page = document.getElementById("page");
  page.hidden = false;
  showPage(page); // pages.js
} else {
  // one snapshot at once, so the page is never empty while the event stream connects
  fetch("/api/status", { cache: "no-store" }).then((r) => (r.ok ? r.json() : null)).then((s) => s && render(s))
    .catch(() => live("offline"));

  if (window.EventSource) {
    const events = new EventSource("/api/events");
    let failures = 0;
    events.addEventListener("status", (e) => { failures = 0; render(JSON.parse(e.data)); live("live"); });
    events.onerror = () => {
      if (++failures >= 3) { events.close(); poll(); } else { live("offline"); }
    };
  } else {
    poll();
  }
}
