// The pages under the overview, each at a URL that can be shared: lists with filters and paging (the filters and
// the page cursor live in the query string), and one page per request, batch, capture, topic and build log. Each
// page reads its JSON from /api/… and refreshes itself every two seconds (a build log follows its build).
"use strict";

const api = async (path) => {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${r.status}: ${(await r.text()).trim()}`);
  return r.json();
};
const query = () => new URLSearchParams(location.search);
// the current page's URL with some query parameters changed (empty values dropped)
const withQuery = (changes) => {
  const q = query();
  for (const [k, v] of Object.entries(changes)) {
    if (v === "" || v == null) q.delete(k); else q.set(k, v);
  }
  const s = q.toString();
  return location.pathname + (s ? "?" + s : "");
};
// a query string of the non-empty values
const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v != null && v !== "")).toString();
const num = (v) => (v == null || v === "" ? "" : Number(v).toLocaleString("en"));
const stat = (v) => (v ? esc(v.rendered || Object.values(v).find((x) => typeof x !== "object") || "") : "");

let refreshPage = null;
let pageTimer = null;

async function showPage(el) {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const pages = {
    requests: () => (parts.length >= 3 ? requestPage(parts[1] + "/" + parts[2]) : requestList()),
    batches: () => batchPage(parts.slice(1).join("/")),
    captures: () => (parts.length >= 2 ? capturePage(parts.slice(1).join("/")) : captureList()),
    topics: () => topicPage(parts.slice(1).join("/")),
    builds: () => buildPage(parts.slice(1).join("/")),
    audit: () => auditList(),
  };
  const page = pages[parts[0]];
  refreshPage = async () => {
    try {
      el.innerHTML = page ? await page() : `<p>No page at ${esc(location.pathname)}. <a href="/">Overview</a></p>`;
      document.body.dataset.page = parts[0] || "";
      live("polling");
    } catch (e) {
      live("offline");
      el.innerHTML = `<p class="reason" data-error>${esc(e.message)}</p><p><a href="/">Overview</a></p>`;
    }
  };
  await refreshPage();
  if (parts[0] !== "builds" && parts[0] !== "audit") {
    pageTimer = setInterval(() => {
      // never re-render under a person typing in a filter
      if (!el.contains(document.activeElement) || document.activeElement.tagName === "BODY") refreshPage();
    }, 2000);
  }
}

function filters(fields) {
  return `<form class="filters" method="get" action="${esc(location.pathname)}">${fields.map((f) =>
    `<label>${esc(f.label)} ${f.options
      ? `<select name="${esc(f.name)}" data-filter="${esc(f.name)}"><option value="">any</option>${f.options.map((o) =>
        `<option${o === f.value ? " selected" : ""}>${esc(o)}</option>`).join("")}</select>`
      : `<input name="${esc(f.name)}" data-filter="${esc(f.name)}" value="${esc(f.value)}" size="20">`}</label>`).join("")}
    <button type="submit">Filter</button></form>`;
}

function pager(next, param) {
  const first = query().has(param) ? `<a class="first-page" href="${esc(withQuery({ [param]: "" }))}">first page</a> · ` : "";
  return `<p class="pager">${first}${next ? `<a class="next-page" href="${esc(withQuery({ [param]: next }))}">next page</a>`
    : '<span class="muted">last page</span>'}</p>`;
}

const REQUEST_STATES = ["STARTED", "VALIDATED", "BATCHED", "LANDED", "ERROR", "CANCELLING", "CANCELLED"];

async function requestList() {
  const q = query();
  const queues = (last || (await api("/api/status"))).queues.map((x) => x.name);
  const queue = q.get("queue") || queues[0] || "";
  const list = await api(`/api/requests?${qs({ queue, state: q.get("state"), page_token: q.get("page_token"),
    limit: q.get("limit") })}`);
  return `<h2>Requests of ${esc(queue)}</h2>
    ${filters([{ label: "queue", name: "queue", value: queue, options: queues },
      { label: "state", name: "state", value: q.get("state") || "", options: REQUEST_STATES }])}
    <table class="requests"><tr><th>Request</th><th>State</th><th>Batch</th><th>Created</th><th>Updated</th><th></th></tr>
    ${list.requests.map((r) => `<tr class="request" data-request-id="${esc(r.request_id)}" data-state="${esc(r.state)}">
      <td><a href="/requests/${encodeURI(r.request_id)}">${esc(r.request_id)}</a></td><td>${state(r.state)}
        ${r.reason ? `<div class="reason">${esc(r.reason)}</div>` : ""}</td>
      <td>${r.batch_id ? `<a href="/batches/${encodeURIComponent(r.batch_id)}">${esc(r.batch_id)}</a>` : ""}</td>
      <td>${new Date(Number(r.created_at_ms)).toLocaleString()}</td><td>${time(Number(r.updated_at_ms))}</td>
      <td>${terminal(r.state) || r.state === "CANCELLING" ? "" : act("cancel-request", "Cancel", { request: r.request_id }, `Cancel ${r.request_id}?`)}</td>
    </tr>`).join("") || '<tr><td colspan="6" class="muted">No requests match.</td></tr>'}</table>
    ${pager(list.next_page_token, "page_token")}`;
}

async function requestPage(id) {
  const { status, history } = await api(`/api/requests/${encodeURI(id)}`);
  const r = status.request, b = status.batch;
  const entries = history.entries.map((e) => e.effect
    ? `<li class="effect">${esc(e.effect)} <span class="muted">${time(Number(e.at_ms))}</span></li>`
    : `<li class="step" data-state="${esc(e.state)}">${state(e.state)} <span class="muted">${time(Number(e.at_ms))}</span>
        ${e.reason ? `<span class="reason">${esc(e.reason)}</span>` : ""}</li>`).join("");
  const merges = history.entries.filter((e) => e.effect && e.effect.startsWith("merge"));
  return `<h2 class="request-page" data-request-id="${esc(r.request_id)}" data-state="${esc(r.state)}">Request ${esc(r.request_id)}
      ${state(r.state)} ${terminal(r.state) || r.state === "CANCELLING" ? "" : act("cancel-request", "Cancel", { request: r.request_id }, `Cancel ${r.request_id}?`)}</h2>
    ${r.reason ? `<p class="reason">${esc(r.reason)}</p>` : ""}
    <p>Queue <a href="/requests?queue=${encodeURIComponent(r.queue)}">${esc(r.queue)}</a> · priority ${r.priority}
      · created ${new Date(Number(r.created_at_ms)).toLocaleString()}</p>
    <h3>Change</h3>${(r.change.uris || []).map((u) => `<code>${esc(u)}</code>`).join("<br>")}
    <h3>Timeline</h3><ol class="history">${entries}</ol>
    <h3>Batch</h3>${b && b.batch_id ? `<p><a class="batch-link" href="/batches/${encodeURIComponent(b.batch_id)}">${esc(b.batch_id)}</a>
      ${state(b.state)} · members ${b.request_ids.map((m) => `<a href="/requests/${encodeURI(m)}">${esc(m)}</a>`).join(", ")}
      · waits for ${b.depends_on.map((d) => `<a href="/batches/${encodeURIComponent(d)}">${esc(d)}</a>`).join(", ") || "nothing"}</p>`
      : '<p class="muted">not batched yet</p>'}
    <h3>Speculation paths and builds</h3>
    <table class="builds"><tr><th>Build</th><th>Assumes</th><th>State</th><th>Log</th></tr>
      ${status.builds.map((x) => `<tr class="build" data-build-id="${esc(x.build_id)}" data-state="${esc(x.state)}">
        <td>${esc(x.build_id)}</td><td>${esc(x.assumptions)}</td><td>${state(x.state)}
        ${x.reason ? `<div class="reason">${esc(x.reason)}</div>` : ""}</td>
        <td><a class="build-view" href="/builds/${encodeURIComponent(x.build_id)}">follow log</a></td></tr>`).join("")
        || '<tr><td colspan="4" class="muted">No builds yet.</td></tr>'}</table>
    <h3>Merge</h3>${merges.map((e) => `<p class="merge-result">${esc(e.effect)}</p>`).join("") || '<p class="muted">not merged</p>'}`;
}

async function batchPage(id) {
  const b = await api(`/api/batches/${encodeURIComponent(id)}`);
  return `<h2 class="batch-page" data-batch-id="${esc(b.id)}" data-state="${esc(b.state)}">Batch ${esc(b.id)} ${state(b.state)}</h2>
    <p>Queue <a href="/requests?queue=${encodeURIComponent(b.queue)}">${esc(b.queue)}</a>
    · members ${b.members.map((m) => `<a class="member" href="/requests/${encodeURI(m)}">${esc(m)}</a>`).join(", ")}</p>
    ${graph([b, ...b.dependsOn.map((d) => ({ id: d, state: "", position: -1, dependsOn: [] }))])}
    ${batches([b])}`;
}

const JOB_STATES = ["PENDING", "RUNNING", "WAITING", "SUCCEEDED", "FAILED", "CANCELLED"];

async function captureList() {
  const q = query();
  const list = await api(`/api/captures?${qs({ table: q.get("table"), state: q.get("state"), before: q.get("before"),
    limit: q.get("limit") })}`);
  return `<h2>Captures</h2>
    ${filters([{ label: "table", name: "table", value: q.get("table") || "" },
      { label: "state", name: "state", value: q.get("state") || "", options: JOB_STATES }])}
    <table class="captures"><tr><th>Capture</th><th>Table</th><th>State</th><th>Jobs</th><th>Snapshots</th><th></th></tr>
    ${list.captures.map((c) => `<tr class="capture" data-job-id="${esc(c.id)}" data-state="${esc(c.state)}">
      <td><a href="/captures/${encodeURIComponent(c.id)}">${esc(c.id)}</a></td><td>${esc(c.table)}</td><td>${state(c.state)}</td>
      <td>${Object.entries(c.states).map(([s, n]) => `${n} ${esc(s)}`).join(", ")}</td>
      <td>${(c.snapshots || []).map(completeness).join("")}</td>
      <td>${terminal(c.state) ? "" : act("cancel-capture", "Cancel", { job: c.id }, `Cancel this capture of ${c.table}?`)}</td></tr>`).join("")
      || '<tr><td colspan="6" class="muted">No captures match.</td></tr>'}</table>
    ${pager(list.next, "before")}`;
}

function jobNode(n) {
  const j = n.job, p = j.progress || {};
  const total = Number(p.files_total || 0), done = Number(p.files_done || 0);
  const pct = total > 0 ? Math.round((100 * done) / total) : (j.state === "RJS_SUCCEEDED" ? 100 : 0);
  const s = j.state.replace("RJS_", "");
  return `<li class="job" data-job-id="${esc(j.job_id)}" data-kind="${esc(j.kind.replace("RJK_", ""))}" data-state="${esc(s)}">
    <b>${esc(j.kind.replace("RJK_", ""))}</b> ${state(s)} <span class="bar" title="${pct}%"><i style="width:${pct}%"></i></span>
    ${total > 0 ? `${done}/${total}` : ""} <span class="muted">${esc(j.job_id)} · attempt ${j.attempts}/${j.max_attempts}
    ${j.lease_owner ? "· held by " + esc(j.lease_owner) : ""}</span>
    ${j.last_error && s !== "SUCCEEDED" ? `<div class="reason">${esc(j.last_error)}</div>` : ""}
    ${n.children.length ? `<ul class="tree">${n.children.map(jobNode).join("")}</ul>` : ""}</li>`;
}

function failures(n, out = []) {
  if (n.job.last_error && n.job.state !== "RJS_SUCCEEDED") out.push(n.job);
  n.children.forEach((c) => failures(c, out));
  return out;
}

async function capturePage(id) {
  const c = await api(`/api/captures/${encodeURIComponent(id)}${location.search}`);
  const root = c.tree.root.job, s = root.state.replace("RJS_", "");
  const fails = failures(c.tree.root);
  const files = c.files ? c.files.files : [];
  const columns = files.length ? files[0].columns.map((x) => x.column) : [];
  return `<h2 class="capture-page" data-job-id="${esc(root.job_id)}" data-state="${esc(s)}">Capture of ${esc(c.table || root.table_id || root.job_id)}
      ${state(s)} ${terminal(s) ? "" : act("cancel-capture", "Cancel", { job: root.job_id }, `Cancel this capture of ${root.table_id}?`)}</h2>
    <h3>Jobs</h3><ul class="tree root">${jobNode(c.tree.root)}</ul>
    <h3>Failures</h3>${fails.map((j) => `<p class="failure"><code>${esc(j.job_id)}</code> <span class="reason">${esc(j.last_error)}</span></p>`).join("")
      || '<p class="muted">none</p>'}
    <h3>Files${c.files ? ` of snapshot ${esc(c.files.snapshot_id)}` : ""}</h3>
    ${c.filesUnavailable ? `<p class="muted">${esc(c.filesUnavailable)}</p>` : !c.files ? '<p class="muted">no snapshot finalized yet</p>' : `
    <table class="file-stats"><tr><th>File</th><th>Rows</th><th>Bytes</th>${columns.map((n) => `<th>${esc(n)}<br>
      <span class="muted">nulls · NaN · NDV · min … max</span></th>`).join("")}</tr>
    ${files.map((f) => `<tr class="file" data-path="${esc(f.path)}"><td><code>${esc(f.path.split("/").pop())}</code></td>
      <td>${num(f.row_count)}</td><td>${num(f.size_bytes)}</td>${f.columns.map((x) => `<td class="column" data-column="${esc(x.column)}">
        ${num(x.null_count)} · <span data-stat="nan">${x.nan_count == null ? "–" : num(x.nan_count)}</span> ·
        <span data-stat="ndv" title="${num(x.ndv_lower)}–${num(x.ndv_upper)}">${x.ndv == null ? "–" : num(x.ndv)}</span> ·
        ${stat(x.min)} … ${stat(x.max)}</td>`).join("")}</tr>`).join("")}</table>
    ${pager(c.files.next_page_token, "page_token")}`}`;
}

async function topicPage(name) {
  const before = query().get("before") || "";
  const t = await api(`/api/topics/${encodeURIComponent(name)}${before ? "?before=" + encodeURIComponent(before) : ""}`);
  const groups = [...new Set(t.lagHistory.flatMap((x) => Object.keys(x.lag)))];
  const peak = Math.max(1, ...t.lagHistory.flatMap((x) => Object.values(x.lag)));
  const t0 = t.lagHistory.length ? t.lagHistory[0].at : 0, span = Math.max(1, (t.lagHistory.at(-1) || {}).at - t0);
  const lines = groups.map((g) => `<polyline class="lag" data-group="${esc(g)}" fill="none" stroke="#2563eb"
      points="${t.lagHistory.map((x) => `${(400 * (x.at - t0)) / span},${60 - (60 * (x.lag[g] || 0)) / peak}`).join(" ")}">
      <title>${esc(g)}</title></polyline>`).join("");
  return `<h2 class="topic-page" data-topic="${esc(t.topic)}">Topic ${esc(t.topic)}</h2>
    <p>${t.partitions} partitions · ${num(t.published)} published</p>
    <h3>Consumer groups</h3><table><tr><th>Group</th><th>Lag</th><th>Head of line</th></tr>
    ${t.groups.map((g) => `<tr class="group" data-group="${esc(g.group)}" data-lag="${g.lag}"><td>${esc(g.group)}</td><td>${g.lag}</td>
      <td>${g.headError ? `<span class="reason">retrying (${g.headAttempts}): ${esc(g.headError)}</span>` : ""}</td></tr>`).join("")
      || '<tr><td colspan="3" class="muted">No consumer groups.</td></tr>'}</table>
    <h3>Lag over the last hour</h3>${t.lagHistory.length > 1 ? `<svg class="lag-history" width="400" height="60" viewBox="0 0 400 60"
      role="img" aria-label="lag over time">${lines}</svg><p class="muted">peak ${peak}, sampled every 10 s since this node started</p>`
      : '<p class="muted">sampled every 10 s since this node started; too few samples yet</p>'}
    ${t.deadLetter ? `<h3>Dead letters</h3><div class="card dlq" data-topic="${esc(t.topic)}"><table>
      <tr><th>#</th><th>Original</th><th>Group</th><th>Attempts</th><th>Error</th><th>Dead at</th><th></th></tr>
      ${t.letters.map((l) => `<tr class="dead-letter" data-seq="${l.seq}"><td>${l.seq}</td><td><code>${esc(l.original)}</code></td>
        <td>${esc(l.group)}</td><td>${l.attempts ?? ""}</td><td class="reason">${esc(l.error)}</td><td>${time(l.deadAt)}</td>
        <td>${act("redrive-dead-letter", "Redrive", { topic: t.topic, seq: l.seq })}${act("discard-dead-letter", "Discard",
          { topic: t.topic, seq: l.seq }, `Discard dead letter ${l.seq} of ${t.topic} for good?`)}</td></tr>`).join("")
        || '<tr><td colspan="7" class="muted">None.</td></tr>'}</table></div>${pager(t.nextBefore, "before")}` : ""}`;
}

// A build's output as it is stored (secret values masked when written), shown as text, never as HTML; while the
// build runs, the next piece is asked for from where the last one ended.
async function buildPage(id) {
  setTimeout(() => followLog(id, 0), 0);
  return `<h2 class="build-page" data-build-id="${esc(id)}">Build ${esc(id)} <span id="log-state" class="muted">loading…</span></h2>
    <p><a href="/api/builds/${encodeURIComponent(id)}/log">raw text</a></p><pre class="log" id="log"></pre>`;
}

async function followLog(id, offset) {
  const pre = document.getElementById("log"), label = document.getElementById("log-state");
  if (!pre) return;
  try {
    const r = await fetch(`/api/builds/${encodeURIComponent(id)}/log?offset=${offset}`, { cache: "no-store" });
    if (!r.ok) throw new Error(`${r.status}: ${(await r.text()).trim()}`);
    pre.append(document.createTextNode(await r.text()));
    const finished = r.headers.get("X-Build-Finished") === "true";
    const next = Number(r.headers.get("X-Next-Offset"));
    label.textContent = finished ? "finished" : "running…";
    label.dataset.finished = String(finished);
    if (!finished || next < Number(r.headers.get("X-Total"))) setTimeout(() => followLog(id, next), next > offset ? 0 : 1000);
  } catch (e) {
    label.textContent = e.message;
    label.className = "reason";
  }
}

async function auditList() {
  const before = query().get("before") || "";
  const page = await api(`/api/audit?limit=50${before ? "&before=" + encodeURIComponent(before) : ""}`);
  return `<h2>Audit log</h2>${audit(page.entries).replace(/<p><a href="\/audit">older entries…<\/a><\/p>/, "")}
    ${pager(page.next, "before")}`;
}
