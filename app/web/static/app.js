// catalog-search web page: plain JavaScript over this origin's HTTP API (/v1/search, /v1/rerank, /v1/status).
// Every text from the service is put into the page with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const STAGES = ["count", "embed", "dense", "exact_scan", "bm25", "fuse", "hydrate", "rerank"];
let serviceAddress = "";
let examples = [];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmt(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function money(value, currency) {
  return `${Number(value).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2})} ${currency}`;
}

// ------------------------------------------------------------------------------------------------------ the API

// A service that checks tokens: open the page as /#token=<token>. The fragment never reaches a server; the token
// is kept for this tab only (sessionStorage) and removed from the address bar.
const TOKEN_KEY = "catalog-search-token";
(function takeToken() {
  const match = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
  if (!match) return;
  try { sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1])); } catch (err) { /* storage off */ }
  history.replaceState(null, "", window.location.pathname + window.location.search);
})();

function authHeaders() {
  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (err) { token = null; }
  return token ? {"Authorization": `Bearer ${token}`} : {};
}

async function api(path, body) {
  const started = performance.now();
  let response;
  try {
    response = await fetch(path, body === undefined ? {headers: authHeaders()} : {
      method: "POST", headers: {"Content-Type": "application/json", ...authHeaders()}, body: JSON.stringify(body)});
  } catch (err) {
    return {ok: false, status: 0, data: null, ms: performance.now() - started};
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  return {ok: response.ok, status: response.status, data, ms: performance.now() - started};
}

function errorText(result, what) {
  const error = (result.data && result.data.error) || {};
  const message = error.message || `HTTP ${result.status}`;
  switch (result.status) {
    case 0:
      return "This page's own server does not answer (was catalog-search ui stopped?).";
    case 401:
      return "This service requires a token: open the page as /#token=<your token> (CATALOG_GRPC_API_KEY or a " +
             `tenant token). ${message}`;
    case 400:
      return `Invalid request — ${error.field ? `field “${error.field}”: ` : ""}${message}`;
    case 501:
      return "No reranker is configured on the retrieval service (CATALOG_RERANK_BACKEND=none): set it to vllm or " +
             "local and restart the service to use the playground.";
    case 503:
      if (error.backend === "RerankError") return `The reranker is down: ${message}`;
      if (error.backend) return `A backend of the retrieval service is down (${error.backend}): ${message}`;
      return `The retrieval service${serviceAddress ? ` at ${serviceAddress}` : ""} is not reachable — start it ` +
             `with “catalog-search serve” (or “catalog-search demo --ui”). ${message}`;
    case 504:
      return `The ${what} took longer than the deadline: ${message}`;
    default:
      return `The ${what} failed (${error.code || result.status}): ${message}`;
  }
}

function showMessage(id, text, kind) {
  const box = $(id);
  box.textContent = text || "";
  box.className = `message ${kind || ""}`;
  box.hidden = !text;
}

// ----------------------------------------------------------------------------------------------- service status

async function checkStatus() {
  const result = await api("/v1/status");
  const pill = $("status");
  const data = result.data || {};
  serviceAddress = data.address || serviceAddress;
  if (result.ok && data.serving) {
    pill.textContent = `service ${data.address}: serving`;
    pill.className = "pill up";
    showMessage("service-message", "");
  } else {
    pill.textContent = result.status === 0 ? "page server down" : `service ${data.address || "?"}: ${(data.service || "down").toLowerCase()}`;
    pill.className = "pill down";
    showMessage("service-message", result.status === 0 ? errorText(result, "status check") :
      `The retrieval service at ${data.address} is ${data.service === "UNREACHABLE" ? "not reachable" : data.service}: ` +
      "searches will fail until it is up (catalog-search serve, or catalog-search demo --ui).", "error");
  }
}

// ------------------------------------------------------------------------------------------------------- search

function listOf(text) {
  return text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

function numberOrNull(id) {
  const raw = $(id).value.trim();
  return raw === "" ? null : Number(raw);
}

function searchRequest(overrides) {
  const request = {
    query: $("query").value,
    top_k: Number($("top-k").value || 0),
    filters: {
      categories: listOf($("category").value).map((path) => ({path, prefix: true})),
      brands: listOf($("brand").value),
      price_min: numberOrNull("price-min"),
      price_max: numberOrNull("price-max"),
      in_stock_only: $("in-stock").checked,
      locale: $("locale").value.trim(),
    },
    rerank: $("rerank").checked,
  };
  return Object.assign(request, overrides || {});
}

function resultsTable(response, moves) {
  // moves (the compare view): a narrower table, with each row's move against the other side
  if (!response.hits.length) return el("p", {class: "empty", text: "No products match."});
  const compact = Boolean(moves);
  const columns = compact ? ["#", "product", "price", "score", "fused", "rerank", "move"] :
    ["#", "product", "brand", "price", "stock", "score", "dense", "BM25", "fused", "rerank"];
  const head = el("tr", {}, ...columns.map((h) => el("th", {text: h, class: ["product", "brand", "stock", "move"].includes(h) ? "" : "num"})));
  const rows = response.hits.map((hit) => {
    const move = compact ? moves.get(hit.sku) : null;
    const sub = compact ? `${hit.sku} · ${hit.brand}${hit.in_stock ? "" : " · out of stock"}` : `${hit.sku} · ${hit.category}`;
    return el("tr", {"data-sku": hit.sku, class: move && move.kind !== "same" ? `moved ${move.kind}` : ""},
      el("td", {class: "num", text: hit.rank}),
      el("td", {class: "product"}, el("div", {class: "title", text: hit.title}), el("div", {class: "sub", text: sub})),
      compact ? null : el("td", {text: hit.brand}),
      el("td", {class: "num", text: money(hit.price, hit.currency)}),
      compact ? null : el("td", {class: hit.in_stock ? "stock in" : "stock out", text: hit.in_stock ? "in stock" : "out of stock"}),
      el("td", {class: "num strong", text: fmt(hit.score, 4)}),
      compact ? null : el("td", {class: "num", text: fmt(hit.scores.dense, 3)}),
      compact ? null : el("td", {class: "num", text: fmt(hit.scores.bm25, 2)}),
      el("td", {class: "num", text: fmt(hit.scores.fused, 4)}),
      el("td", {class: "num", text: fmt(hit.scores.rerank, 3)}),
      compact ? el("td", {class: "move", text: move ? move.label : ""}) : null);
  });
  return el("table", {class: compact ? "results compact" : "results"}, el("thead", {}, head), el("tbody", {}, ...rows));
}

function metaLines(response, result, requested) {
  const lines = [];
  if (response.degraded) lines.push(el("div", {class: "degraded", text: `Degraded: ${response.degraded_reason || "no reason given"}`}));
  const reranker = response.models.reranker || "none";
  const reranked = response.hits.some((h) => h.scores.rerank !== null);
  const rerankNote = requested === false ? "rerank off (not requested)" : reranked ? `reranked by ${reranker}` :
    reranker === "none" ? "no reranker configured" : `rerank skipped (${reranker} did not run)`;
  const models = Object.entries(response.models).map(([k, v]) => `${k} ${v}`).join(", ");
  lines.push(el("div", {class: "models", text: `Models: ${models} · ${rerankNote}`}));
  const order = (k) => (k === "total" ? 99 : STAGES.indexOf(k) === -1 ? 50 : STAGES.indexOf(k));
  const stages = Object.keys(response.timings_ms).sort((a, b) => order(a) - order(b));
  lines.push(el("div", {class: "timings"}, "Timings: ",
    ...stages.map((k) => el("span", {class: k === "total" ? "stage total" : "stage", text: `${k} ${fmt(response.timings_ms[k], 1)} ms`})),
    el("span", {class: "stage http", text: `page round trip ${fmt(result.ms, 1)} ms`})));
  return lines;
}

async function runSearch() {
  const requested = $("rerank").checked;
  $("search-button").disabled = true;
  showMessage("search-message", "Searching…", "info");
  const result = await api("/v1/search", searchRequest());
  $("search-button").disabled = false;
  $("search-results").replaceChildren();
  $("search-meta").replaceChildren();
  if (!result.ok) {
    showMessage("search-message", errorText(result, "search"), "error");
    if (result.status === 503 || result.status === 0) checkStatus();
    return;
  }
  const response = result.data;
  showMessage("search-message", response.degraded ? `Degraded answer (fused order): ${response.degraded_reason}` : "",
              response.degraded ? "warn" : "");
  $("search-results").append(resultsTable(response, null));
  $("search-meta").append(...metaLines(response, result, requested));
}

// ------------------------------------------------------------------------------------------------------ compare

function side(prefix) {
  const rerank = $(`${prefix}-rerank`).value === "on";
  const candidates = Number($(`${prefix}-candidates`).value || 0);
  return {rerank, candidates, label: `rerank ${rerank ? "on" : "off"}${candidates ? `, ${candidates} candidates` : ""}`};
}

function movesAgainst(response, other) {
  const rankThere = new Map(other.hits.map((h) => [h.sku, h.rank]));
  const moves = new Map();
  for (const hit of response.hits) {
    const there = rankThere.get(hit.sku);
    if (there === undefined) moves.set(hit.sku, {kind: "new", label: "only here"});
    else if (there === hit.rank) moves.set(hit.sku, {kind: "same", label: "="});
    else if (there > hit.rank) moves.set(hit.sku, {kind: "up", label: `▲${there - hit.rank}`});
    else moves.set(hit.sku, {kind: "down", label: `▼${hit.rank - there}`});
  }
  return moves;
}

async function runCompare() {
  const a = side("a"), b = side("b");
  $("compare-button").disabled = true;
  showMessage("compare-message", "Searching twice…", "info");
  const [ra, rb] = await Promise.all([
    api("/v1/search", searchRequest({rerank: a.rerank, candidates: a.candidates})),
    api("/v1/search", searchRequest({rerank: b.rerank, candidates: b.candidates}))]);
  $("compare-button").disabled = false;
  for (const id of ["compare-a", "compare-b", "compare-a-meta", "compare-b-meta", "compare-summary"]) $(id).replaceChildren();
  const failed = [ra, rb].find((r) => !r.ok);
  if (failed) {
    showMessage("compare-message", errorText(failed, "search"), "error");
    return;
  }
  showMessage("compare-message", "");
  $("compare-a-title").textContent = `Left: ${a.label}`;
  $("compare-b-title").textContent = `Right: ${b.label}`;
  const movesA = movesAgainst(ra.data, rb.data), movesB = movesAgainst(rb.data, ra.data);
  $("compare-a").append(resultsTable(ra.data, movesA));
  $("compare-b").append(resultsTable(rb.data, movesB));
  $("compare-a-meta").append(...metaLines(ra.data, ra, a.rerank));
  $("compare-b-meta").append(...metaLines(rb.data, rb, b.rerank));
  const moved = [...movesB.values()].filter((m) => m.kind === "up" || m.kind === "down").length;
  const onlyRight = [...movesB.values()].filter((m) => m.kind === "new").length;
  const onlyLeft = [...movesA.values()].filter((m) => m.kind === "new").length;
  $("compare-summary").textContent = `${moved} of ${rb.data.hits.length} products moved; ${onlyLeft} only on the ` +
    `left, ${onlyRight} only on the right.`;
}

// --------------------------------------------------------------------------------------------------- playground

async function loadExamples() {
  const result = await api("/static/examples.json");
  examples = (result.ok && result.data && result.data.examples) || [];
  const select = $("example");
  select.replaceChildren(el("option", {value: "", text: "— your own —"}),
    ...examples.map((ex, i) => el("option", {value: String(i), text: ex.name})));
  if (examples.length) {
    select.value = "0";
    fillExample(0);
  }
}

function fillExample(index) {
  const ex = examples[index];
  if (!ex) return;
  $("rr-query").value = ex.query;
  $("rr-documents").value = ex.documents.join("\n");
  $("rerank-results").replaceChildren();
  $("rerank-meta").replaceChildren();
  showMessage("rerank-message", "");
}

function bar(share) {
  const node = el("span", {class: "bar"});
  node.style.width = `${Math.max(2, Math.round(100 * share))}%`;     // CSSOM: allowed by the page's CSP
  return node;
}

async function runRerank() {
  const documents = $("rr-documents").value.split("\n").map((s) => s.trim()).filter((s) => s.length > 0);
  const request = {query: $("rr-query").value, documents};
  const instruction = $("rr-instruction").value.trim();
  if (instruction) request.instruction = instruction;
  $("rerank-button").disabled = true;
  showMessage("rerank-message", "Scoring…", "info");
  const result = await api("/v1/rerank", request);
  $("rerank-button").disabled = false;
  $("rerank-results").replaceChildren();
  $("rerank-meta").replaceChildren();
  if (!result.ok) {
    showMessage("rerank-message", errorText(result, "rerank"), "error");
    return;
  }
  showMessage("rerank-message", "");
  const response = result.data;
  const top = Math.max(...response.results.map((r) => r.score), 1e-9);
  const rows = response.results.map((r) => el("tr", {"data-index": r.index},
    el("td", {class: "num", text: r.rank}),
    el("td", {class: "num strong", text: fmt(r.score, 6)}),
    el("td", {class: "bar-cell"}, bar(r.score / top)),
    el("td", {class: "document", text: r.document}),
    el("td", {class: "num", text: r.index + 1})));
  $("rerank-results").append(el("table", {class: "results rerank"},
    el("thead", {}, el("tr", {}, ...["#", "score", "", "candidate", "was #"].map((h) => el("th", {text: h})))),
    el("tbody", {}, ...rows)));
  const timings = Object.entries(response.timings_ms).map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(", ");
  $("rerank-meta").textContent = `Reranker ${response.model} · ${timings} · page round trip ${fmt(result.ms, 1)} ms`;
}

// --------------------------------------------------------------------------------------------------------- tabs

function showTab(name) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const active = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(active));
    $(`panel-${tab.dataset.tab}`).hidden = !active;
  }
  $("search-form").hidden = name === "playground";
  document.body.dataset.tab = name;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (document.body.dataset.tab === "compare") runCompare(); else runSearch();
  });
  $("compare-button").addEventListener("click", runCompare);
  $("rerank-button").addEventListener("click", runRerank);
  $("example").addEventListener("change", (event) => fillExample(Number(event.target.value)));
  const initial = location.hash.replace("#", "");
  showTab(["search", "compare", "playground"].includes(initial) ? initial : "search");
  checkStatus();
  loadExamples();
});
