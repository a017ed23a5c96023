// The Vouch fleet dashboard: reads /fleet/v1/summary, /fleet/v1/attesters
// and /fleet/v1/history and renders them with plain DOM calls and inline
// SVG. The page is served under a strict Content-Security-Policy, so this
// file sets no inline style: colours come from CSS classes, chart geometry
// from SVG attributes, and text only ever goes in through textContent.
"use strict";

(() => {
  const STATUSES = ["affirming", "warning", "contraindicated", "none"];
  const PARTS = ["summary", "history", "attesters"];
  const PART_NAMES = { summary: "Summary", history: "Verdicts over time", attesters: "Attesters" };
  const REFRESH_MS = 10000;
  const FETCH_TIMEOUT_MS = 30000;
  const PAGE_SIZE = 50;
  const MAX_STALE_MINUTES = 525600;
  // Wider ranges are drawn in buckets of several minutes, so that a bar
  // stays wider than a pixel or two.
  const MAX_BARS = 360;
  const TOKEN_KEY = "vouch-fleet-token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const NUMBER = new Intl.NumberFormat("en-US");

  const $ = (id) => document.getElementById(id);

  /** A 401 or 403: the user must give (another) token. */
  class AuthError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  /** Any other failed call, with the problem+json detail when there is one. */
  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  const state = {
    staleMinutes: 60,
    historyMinutes: 60,
    filters: { scheme: "", status: "", q: "", stale: false },
    // The cursor of the attester page shown (null: the first page).
    cursor: null,
    page: 1,
    nextCursor: null,
    // The server's clock, from the last summary: ages are counted from it,
    // not from the browser's clock.
    asOf: null,
    history: null,
    // Each part's latest request: an older answer arriving late is dropped.
    tickets: { summary: 0, history: 0, attesters: 0 },
    errors: { summary: null, history: null, attesters: null },
    rendered: new Set(),
    inFlight: 0,
  };

  // ---- The API -----------------------------------------------------------

  // The bearer token, kept in sessionStorage (this tab only); this copy
  // serves when storage is disabled, until a reload.
  let bearerToken = (() => {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch {
      return "";
    }
  })();

  function storeToken(token) {
    bearerToken = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Storage disabled: the copy above will do.
    }
  }

  async function problemDetail(response) {
    const fallback = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    const text = await response.text().catch(() => "");
    try {
      const problem = JSON.parse(text);
      return problem.detail || problem.title || fallback;
    } catch {
      return text.trim().slice(0, 300) || fallback;
    }
  }

  async function api(path, params) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, String(value));
    }
    const headers = { Accept: "application/json" };
    if (bearerToken) headers.Authorization = `Bearer ${bearerToken}`;
    let response;
    try {
      // A hung call would otherwise stop the auto refresh for good.
      response = await fetch(url, { headers, cache: "no-store", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new ApiError(0, `the server did not answer (${error.message})`);
    }
    if (!response.ok) {
      const detail = await problemDetail(response);
      if (response.status === 401 || response.status === 403) throw new AuthError(response.status, detail);
      throw new ApiError(response.status, detail);
    }
    try {
      return await response.json();
    } catch {
      throw new ApiError(response.status, "the answer is not JSON");
    }
  }

  // ---- Formatting --------------------------------------------------------

  const formatNumber = (n) => (Number.isFinite(n) ? NUMBER.format(n) : "–");

  /** "2026-12-06 22:40:05" from an RFC 3339 UTC time. */
  function formatTime(iso) {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? String(iso ?? "–") : new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  }

  /** "22:40" for a chart axis. */
  const formatMinute = (ms) => new Date(ms).toISOString().slice(11, 16);

  function formatAge(iso) {
    const then = Date.parse(iso);
    if (Number.isNaN(then)) return "";
    const seconds = Math.max(0, ((state.asOf ?? Date.now()) - then) / 1000);
    if (seconds < 60) return "just now";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 120) return `${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours} h ago`;
    return `${Math.floor(hours / 24)} d ago`;
  }

  /** A long base64url id as its head and tail; the full id goes in a title. */
  const shortId = (id) => (id.length > 18 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id);

  function trustVectorText(vector) {
    if (!vector || typeof vector !== "object") return "";
    return Object.entries(vector)
      .map(([submod, claims]) => {
        const parts = Object.entries(claims ?? {}).map(([claim, value]) => `${claim} ${value}`);
        return `${submod}: ${parts.join(", ")}`;
      })
      .join("\n");
  }

  const statusClass = (status) => (STATUSES.includes(status) ? status : "none");

  // ---- DOM helpers -------------------------------------------------------

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  function svg(tag, attributes = {}, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    node.append(...children);
    return node;
  }

  function setNumber(testId, value) {
    const node = document.querySelector(`[data-testid="${testId}"]`);
    if (node) node.textContent = formatNumber(value);
  }

  const numberCell = (testId, value) => el("td", { "data-testid": testId }, formatNumber(value));

  function timeCell(iso, withAge) {
    const cell = el("td", {}, el("time", { datetime: iso }, formatTime(iso)));
    if (withAge) cell.append(el("span", { class: "age" }, formatAge(iso)));
    return cell;
  }

  let statusText = "";
  function setStatus(text) {
    // Screen readers announce every change: only say what changed.
    if (text === statusText) return;
    statusText = text;
    $("status").textContent = text;
  }

  // ---- Summary -----------------------------------------------------------

  function renderSummary(summary) {
    state.asOf = Date.parse(summary.as_of);
    const asOf = $("as-of");
    asOf.setAttribute("datetime", summary.as_of);
    asOf.textContent = `${formatTime(summary.as_of)} UTC`;

    setNumber("summary-total", summary.total);
    setNumber("summary-stale", summary.stale);
    for (const status of STATUSES) setNumber(`summary-status-${status}`, summary.statuses?.[status]);
    for (const label of document.querySelectorAll(".stale-n")) label.textContent = String(summary.stale_minutes);

    const schemes = summary.schemes ?? [];
    const rows = schemes.map((s) => {
      const prefix = `scheme-${s.scheme}`;
      return el(
        "tr",
        {},
        el("th", { scope: "row" }, s.scheme),
        numberCell(`${prefix}-total`, s.total),
        ...STATUSES.map((status) => numberCell(`${prefix}-status-${status}`, s.statuses?.[status])),
        numberCell(`${prefix}-stale`, s.stale),
      );
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "7", class: "empty" }, "No attester yet.")));
    $("schemes").replaceChildren(...rows);
    fillSchemeFilter(schemes.map((s) => s.scheme));
  }

  function fillSchemeFilter(names) {
    const select = $("filter-scheme");
    const chosen = select.value;
    // A chosen scheme that has left the summary stays chosen, not silently reset.
    if (chosen && !names.includes(chosen)) names = [...names, chosen];
    select.replaceChildren(
      el("option", { value: "" }, "All"),
      ...names.map((name) => el("option", { value: name }, name)),
    );
    select.value = chosen;
  }

  // ---- Attesters ---------------------------------------------------------

  function renderAttesters(page) {
    const attesters = page.attesters ?? [];
    state.nextCursor = page.next_cursor ?? null;
    const rows = attesters.map((a) => {
      const status = statusClass(a.status);
      return el(
        "tr",
        { "data-testid": "attester-row", "data-id": a.id, "data-status": a.status },
        el("td", {}, a.scheme),
        el("td", { class: "id", title: a.id }, shortId(a.id)),
        el("td", {}, el("span", { class: `badge ${status}`, title: trustVectorText(a.trust_vector) }, a.status)),
        timeCell(a.last_seen, true),
        timeCell(a.first_seen, false),
        el("td", { class: "num" }, formatNumber(a.verdicts)),
      );
    });
    $("attesters").replaceChildren(...rows);
    $("attesters-empty").hidden = rows.length > 0;
    $("first-page").disabled = state.cursor === null;
    $("next-page").disabled = state.nextCursor === null;
    const count = `${rows.length} attester${rows.length === 1 ? "" : "s"}`;
    $("page-label").textContent = `Page ${state.page} · ${count}`;
  }

  // ---- The chart ---------------------------------------------------------

  /** A round step (1, 2 or 5 times a power of ten) for about `target`. */
  function niceStep(target) {
    if (target <= 1) return 1;
    const power = 10 ** Math.floor(Math.log10(target));
    const scaled = target / power;
    return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
  }

  function renderHistory(history) {
    state.history = history;
    drawChart();
  }

  function drawChart() {
    const history = state.history;
    if (!history) return;
    const box = $("chart");
    const points = history.points ?? [];
    const minutes = history.minutes || state.historyMinutes;
    const empty = $("chart-empty");
    empty.textContent = `No verdicts in the last ${minutes} minutes.`;
    empty.hidden = points.length > 0;
    if (points.length === 0) {
      box.replaceChildren();
      return;
    }

    const bucket = Math.max(1, Math.ceil(minutes / MAX_BARS));
    const bars = Math.ceil(minutes / bucket);
    const minute = 60000;
    const end = Math.floor(Date.parse(history.as_of) / minute) * minute;
    const start = end - (bars * bucket - 1) * minute;
    const counts = Array.from({ length: bars }, () => Object.fromEntries(STATUSES.map((s) => [s, 0])));
    const totals = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const point of points) {
      const index = Math.floor((Date.parse(point.minute) - start) / (bucket * minute));
      if (!(index >= 0 && index < bars)) continue;
      const status = statusClass(point.status);
      counts[index][status] += point.count;
      totals[status] += point.count;
    }

    const width = Math.max(300, Math.round(box.clientWidth || 800));
    const height = 220;
    const margin = { left: 52, right: 12, top: 10, bottom: 40 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const highest = Math.max(1, ...counts.map((c) => STATUSES.reduce((sum, s) => sum + c[s], 0)));
    const step = niceStep(highest / 4);
    const top = Math.ceil(highest / step) * step;
    const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
    const barWidth = plotWidth / bars;
    const gap = barWidth > 4 ? 1 : 0;
    const per = bucket === 1 ? "minute" : `${bucket} minutes`;

    const total = STATUSES.reduce((sum, s) => sum + totals[s], 0);
    const description =
      `Verdicts per ${per} over the last ${minutes} minutes: ${formatNumber(total)} in all, ` +
      STATUSES.map((s) => `${formatNumber(totals[s])} ${s}`).join(", ") +
      ".";
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": description,
      "data-testid": "history-chart",
    });

    for (let value = 0; value <= top; value += step) {
      chart.append(
        svg("line", {
          class: value === 0 ? "axis" : "grid",
          x1: margin.left,
          x2: width - margin.right,
          y1: y(value),
          y2: y(value),
        }),
        svg("text", { x: margin.left - 6, y: y(value) + 4, "text-anchor": "end" }, formatNumber(value)),
      );
    }

    counts.forEach((count, index) => {
      const from = start + index * bucket * minute;
      const sum = STATUSES.reduce((acc, s) => acc + count[s], 0);
      if (sum === 0) return;
      const when = bucket === 1 ? formatMinute(from) : `${formatMinute(from)}–${formatMinute(from + bucket * minute)}`;
      const parts = STATUSES.filter((s) => count[s] > 0).map((s) => `${formatNumber(count[s])} ${s}`);
      const group = svg("g", {}, svg("title", {}, `${when} UTC: ${parts.join(", ")}`));
      let base = 0;
      for (const status of STATUSES) {
        if (count[status] === 0) continue;
        const yTop = y(base + count[status]);
        group.append(
          svg("rect", {
            class: `bar ${status}`,
            x: margin.left + index * barWidth,
            y: yTop,
            width: Math.max(0.5, barWidth - gap),
            height: y(base) - yTop,
          }),
        );
        base += count[status];
      }
      chart.append(group);
    });

    // Time labels on round minutes, as many as fit.
    const fit = Math.max(2, Math.floor(plotWidth / 70));
    const interval = [5, 10, 15, 30, 60, 120, 180, 240, 360, 720].find((m) => minutes / m <= fit) ?? 1440;
    const firstTick = Math.ceil(start / (interval * minute)) * interval * minute;
    for (let t = firstTick; t <= end; t += interval * minute) {
      const x = margin.left + ((t - start) / (bucket * minute)) * barWidth;
      chart.append(
        svg("line", { class: "axis", x1: x, x2: x, y1: margin.top + plotHeight, y2: margin.top + plotHeight + 4 }),
        svg("text", { x, y: margin.top + plotHeight + 16, "text-anchor": "middle" }, formatMinute(t)),
      );
    }
    chart.append(
      svg("line", { class: "axis", x1: margin.left, x2: margin.left, y1: margin.top, y2: margin.top + plotHeight }),
      svg(
        "text",
        { class: "title", x: margin.left + plotWidth / 2, y: height - 4, "text-anchor": "middle" },
        "Time (UTC)",
      ),
      svg(
        "text",
        {
          class: "title",
          x: 0,
          y: 0,
          transform: `translate(12 ${margin.top + plotHeight / 2}) rotate(-90)`,
          "text-anchor": "middle",
        },
        `Verdicts / ${per}`,
      ),
    );
    box.replaceChildren(chart);
  }

  // ---- Loading -----------------------------------------------------------

  const loaders = {
    summary: () => api("/fleet/v1/summary", { stale_minutes: state.staleMinutes }),
    history: () => api("/fleet/v1/history", { minutes: state.historyMinutes }),
    attesters: () =>
      api("/fleet/v1/attesters", {
        scheme: state.filters.scheme,
        status: state.filters.status,
        q: state.filters.q,
        stale_minutes: state.filters.stale ? state.staleMinutes : null,
        cursor: state.cursor,
        limit: PAGE_SIZE,
      }),
  };
  const renderers = { summary: renderSummary, history: renderHistory, attesters: renderAttesters };

  async function load(part) {
    const ticket = ++state.tickets[part];
    try {
      const data = await loaders[part]();
      if (ticket !== state.tickets[part]) return;
      renderers[part](data);
      state.errors[part] = null;
      state.rendered.add(part);
    } catch (error) {
      if (ticket !== state.tickets[part]) return;
      state.errors[part] = error;
    }
  }

  async function refresh(parts = PARTS) {
    state.inFlight += 1;
    if (state.rendered.size === 0) setStatus("Loading…");
    try {
      await Promise.all(parts.map(load));
    } finally {
      state.inFlight -= 1;
    }
    showOutcome();
  }

  function showOutcome() {
    const failed = PARTS.filter((part) => state.errors[part]);
    const auth = failed.map((part) => state.errors[part]).find((error) => error instanceof AuthError);
    showAuth(auth);
    const box = $("errors");
    box.replaceChildren(
      ...failed
        .filter((part) => !(state.errors[part] instanceof AuthError))
        .map((part) => {
          const error = state.errors[part];
          const code = error.status ? ` (HTTP ${error.status})` : "";
          return el("p", {}, `${PART_NAMES[part]}: ${error.message}${code}`);
        }),
    );
    box.hidden = box.childElementCount === 0;

    if (failed.length > 0) {
      document.body.dataset.state = "error";
      setStatus(auth ? "A bearer token is needed." : "Some data could not be loaded; see the errors above.");
    } else if (PARTS.every((part) => state.rendered.has(part))) {
      document.body.dataset.state = "ready";
      setStatus($("auto-refresh").checked ? "Up to date; refreshing every 10 s." : "Up to date; auto refresh paused.");
    }
  }

  function showAuth(error) {
    const form = $("auth");
    if (!error) {
      form.hidden = true;
      return;
    }
    const reason =
      error.status === 403
        ? "This token may not read the fleet status (403): a manager's token is needed."
        : bearerToken
          ? "The server refused this token (401)."
          : "The fleet status API needs a bearer token (401).";
    $("auth-reason").textContent = `${reason} The server said: ${error.message}`;
    if (form.hidden) {
      form.hidden = false;
      $("token").focus();
    }
  }

  // ---- Controls ----------------------------------------------------------

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  function firstPage() {
    state.cursor = null;
    state.page = 1;
  }

  function applyFilters() {
    const filters = {
      scheme: $("filter-scheme").value,
      status: $("filter-status").value,
      q: $("filter-q").value.trim(),
      stale: $("filter-stale").checked,
    };
    if (JSON.stringify(filters) === JSON.stringify(state.filters)) return;
    state.filters = filters;
    firstPage();
    refresh(["attesters"]);
  }

  function applyStaleMinutes() {
    const input = $("stale-minutes");
    const value = Number(input.value);
    const valid = Number.isInteger(value) && value >= 1 && value <= MAX_STALE_MINUTES;
    input.setAttribute("aria-invalid", String(!valid));
    if (!valid) {
      setStatus(`Minutes must be a whole number from 1 to ${NUMBER.format(MAX_STALE_MINUTES)}.`);
      return;
    }
    if (value === state.staleMinutes) return;
    state.staleMinutes = value;
    const parts = ["summary"];
    if (state.filters.stale) {
      firstPage();
      parts.push("attesters");
    }
    refresh(parts);
  }

  function autoRefresh() {
    // No piling up behind a slow server, no polling of a hidden tab, and no
    // retrying a refused token every 10 s.
    if (!$("auto-refresh").checked || document.hidden || state.inFlight > 0 || !$("auth").hidden) return;
    refresh();
  }

  function start() {
    $("refresh").addEventListener("click", () => refresh());
    $("auto-refresh").addEventListener("change", showOutcome);
    setInterval(autoRefresh, REFRESH_MS);

    const staleInput = $("stale-minutes");
    staleInput.addEventListener("change", applyStaleMinutes);
    staleInput.addEventListener("input", debounce(applyStaleMinutes, 500));

    $("history-minutes").addEventListener("change", (event) => {
      state.historyMinutes = Number(event.target.value);
      refresh(["history"]);
    });

    const filters = $("filters");
    filters.addEventListener("change", applyFilters);
    $("filter-q").addEventListener("input", debounce(applyFilters, 300));
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      applyFilters();
    });

    $("first-page").addEventListener("click", () => {
      firstPage();
      refresh(["attesters"]);
    });
    $("next-page").addEventListener("click", () => {
      if (state.nextCursor === null) return;
      state.cursor = state.nextCursor;
      state.page += 1;
      refresh(["attesters"]);
    });

    $("auth").addEventListener("submit", (event) => {
      event.preventDefault();
      storeToken($("token").value.trim());
      $("token").value = "";
      refresh();
    });
    $("forget-token").addEventListener("click", () => {
      storeToken("");
      refresh();
    });

    window.addEventListener("resize", debounce(drawChart, 150));
    refresh();
  }

  start();
})();
