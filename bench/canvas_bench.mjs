#!/usr/bin/env node
/**
 * Canvas benchmark: how long a large flow takes to open in the editor, and how smoothly it pans and zooms.
 *
 * Starts a real `rivulet serve` (embedded PostgreSQL in a temporary RIVULET_HOME, serving frontend/dist: build it
 * first, `make bench-canvas` does) on a free port, logs in, and creates through the API two generated flows:
 * a 500-node one and a 50-node baseline. Both are made of operators from `GET /api/operators` with valid params
 * (defaults, plus names, templates, schemas where the operator needs them; dynamic ports resolved through
 * `POST /api/operators/{id}/ports`), laid out in layers, with type-compatible edges (~1.2 per node) from the
 * previous layers. Then, in one headless Chromium (Debian's, software rendering), for each flow and each round:
 *
 * - open: navigation to `/flows/{id}` until the canvas shows its nodes and edges in the fitted view — the time
 *   of the last change of the viewport transform or of the number of rendered nodes or edges, all sampled every
 *   animation frame, once the view has left its initial transform and nothing changed for 1.5 s (works on any
 *   version of the editor; the editor's own `rivulet:canvas-fitted` performance mark is printed alongside
 *   when it sets one);
 * - pan: a left-button drag on the empty pane for `--seconds`, then zoom: mouse-wheel steps in and out for
 *   `--seconds`; requestAnimationFrame deltas over each: p50, p95, max, and frames over 33 ms.
 *
 * Prints each round, the median over `--rounds` (default 3) per flow, and the ratios 500 vs 50 measured in the
 * same browser. Nothing is asserted: speed depends on the machine.
 *
 * Usage: node bench/canvas_bench.mjs [--rounds 3] [--seconds 2.5] [--nodes 500] [--baseline 50] [--dist DIR]...
 *        [--keep] [--flows-only]
 * `--dist DIR`: serve that build of the editor instead of frontend/dist; given several times, one server per
 * build, all measured in turns within each round (before/after comparisons on a busy machine).
 * `--keep`: leave the servers running afterwards (to look or profile); `--flows-only`: generate and check the
 * flows, print their compile errors, measure nothing.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(ROOT, "frontend", "package.json"));
const { chromium } = require("@playwright/test");

const PASSWORD = "bench-canvas-password";

function parseArgs(argv) {
  const options = {
    rounds: 3,
    seconds: 2.5,
    nodes: 500,
    baseline: 50,
    keep: false,
    seed: 20,
    dist: [],
    flowsOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (name === "keep") options.keep = true;
    else if (name === "flows-only") options.flowsOnly = true;
    else if (name === "dist") options.dist.push(path.resolve(argv[++i]));
    else if (name in options) options[name] = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return options;
}

/** A small deterministic PRNG (mulberry32): the same flows every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer(dist) {
  const home = mkdtempSync(path.join(tmpdir(), "rivulet-bench-canvas-"));
  const port = await freePort();
  const child = spawn(
    path.join(ROOT, ".venv", "bin", "rivulet"),
    ["serve", "--host", "127.0.0.1", "--port", String(port)],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        RIVULET_HOME: home,
        RIVULET_ADMIN_USER: "admin",
        RIVULET_ADMIN_PASSWORD: PASSWORD,
        ...(dist ? { RIVULET_FRONTEND_DIR: dist } : {}),
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rivulet serve exited:\n${stderr}`);
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`rivulet serve did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      // SIGTERM lets `rivulet serve` stop its embedded PostgreSQL before the home goes.
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    }
    rmSync(home, { recursive: true, force: true });
  };
  return { base, stop };
}

// ---- flow generation ---------------------------------------------------------------------------------------

/** Operators the generator leaves out: triggers (one per flow), and those needing a named table. */
const SKIPPED = new Set(["trigger.http", "trigger.schedule", "sql.table_preview"]);
const LAYER_GAP = 380;
const ROW_GAP = 210;

function defaults(schema) {
  const params = {};
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    if ("default" in property) params[name] = property.default;
  }
  return params;
}

/** Params that make a node of `operator` compile, beyond its schema defaults. */
function paramsFor(operator, index, random) {
  const params = defaults(operator.params_schema);
  const words = ["question", "topic", "context", "name"];
  switch (operator.id) {
    case "core.input":
      return { ...params, name: `input_${index}`, required: false, default: "hello" };
    case "core.output":
      return { ...params, name: `result_${index}` };
    case "core.constant":
      return { ...params, value: { n: index, tags: ["a", "b"] } };
    case "core.template":
      return { ...params, template: `Tell me about {{ ${words[index % words.length]} }}.` };
    case "llm.prompt_template":
      return { ...params, template: `Answer the {{ ${words[index % words.length]} }} briefly.` };
    case "llm.structured_output":
      return {
        ...params,
        json_schema: { type: "object", properties: { name: { type: "string" } } },
      };
    case "core.http_request":
    case "rag.load_url":
      return { ...params, url: "https://example.com/" };
    case "core.delay":
      return { ...params, seconds: Math.round(random() * 10) / 10 };
    case "llm.conversation_memory":
      return { ...params, session_id: "bench" };
    case "sql.run_query":
      return { ...params, sql: "SELECT 1" };
    case "core.map":
      return { ...params, expression: "item" };
    default:
      return params;
  }
}

const stripOptional = (type) => type.match(/^Optional\[(.*)\]$/)?.[1] ?? type;
const isGeneric = (type) => /\b[A-Z]\b/.test(type);

/** Whether a value of `source` type may feed an input of `target` type (the common, simple cases). */
function fits(source, target) {
  if (source.startsWith("Stream[")) return false;
  const want = stripOptional(target);
  if (want === source || want === "Any" || want === "T") return true;
  if (want === "List[Any]") return source.startsWith("List[");
  return false;
}

async function resolvePorts(api, operator, params) {
  if (!operator.dynamic_inputs && !operator.dynamic_outputs) {
    return { inputs: operator.inputs, outputs: operator.outputs };
  }
  return api("POST", `/api/operators/${operator.id}/ports`, {
    params,
    version: operator.version,
  });
}

/**
 * `count` nodes in layers of about sqrt(count * 0.8) rows; every required input (and a third of the optional
 * ones) is fed from a node of the two previous layers with a compatible output.
 */
async function generateFlow(api, catalog, count, seed) {
  const random = prng(seed);
  const operators = catalog.operators.filter((op) => op.latest && !SKIPPED.has(op.id));
  const sources = operators.filter((op) => !op.inputs.length && !op.dynamic_inputs);
  const portsCache = new Map();
  const portsOf = async (operator, params) => {
    const key = JSON.stringify([operator.id, params]);
    if (!portsCache.has(key)) portsCache.set(key, await resolvePorts(api, operator, params));
    return portsCache.get(key);
  };
  const rows = Math.max(3, Math.round(Math.sqrt(count * 0.8)));
  const nodes = [];
  const edges = [];
  const layers = [];
  const taken = new Map();
  while (nodes.length < count) {
    const layer = layers.length;
    const placed = [];
    for (let row = 0; row < rows && nodes.length < count; row++) {
      const upstream = [...(layers[layer - 1] ?? []), ...(layers[layer - 2] ?? [])];
      for (let attempt = 0; ; attempt++) {
        const pool = layer === 0 || attempt > 30 ? sources : operators;
        const operator = pool[Math.floor(random() * pool.length)];
        const index = nodes.length + 1;
        const params = paramsFor(operator, index, random);
        const ports = await portsOf(operator, params);
        const wired = [];
        let ok = true;
        // An operator whose inputs are all optional still needs one of them (`documents` or `text`).
        const needsOne = ports.inputs.length > 0 && ports.inputs.every((port) => !port.required);
        for (const port of ports.inputs) {
          const first = needsOne && !wired.length;
          if (!port.required && !first && random() > 0.5) continue;
          const candidates = [];
          // Every generic input of a node takes the same type (a join's `in_1`, `in_2`: T).
          const bound = wired.find(([, , other]) => isGeneric(other.type))?.[1].type;
          for (const node of upstream) {
            for (const output of node.outputs) {
              if (bound && isGeneric(port.type) && output.type !== bound) continue;
              if (fits(output.type, port.type)) candidates.push([node, output]);
            }
          }
          if (!candidates.length) {
            if (port.required) ok = false;
            continue;
          }
          const [source, output] = candidates[Math.floor(random() * candidates.length)];
          wired.push([source, output, port]);
        }
        if (!ok || (needsOne && !wired.length)) continue;
        // The query comes from the input or from the param, never both.
        if (wired.some(([, , port]) => port.name === "query") && "sql" in params) params.sql = null;
        const stem = operator.id.split(".").pop();
        const n = (taken.get(stem) ?? 0) + 1;
        taken.set(stem, n);
        const id = `${stem}_${n}`;
        // Generic outputs take the type of what feeds their generic input (T → Text).
        const bound = wired.find(([, , port]) => isGeneric(port.type))?.[1].type ?? "Json";
        const outputs = ports.outputs.map((port) => ({
          name: port.name,
          type: port.type.replace(/\bT\b/, bound),
        }));
        const node = {
          id,
          operator: operator.id,
          operator_version: operator.version,
          label: null,
          params,
          position: {
            x: layer * LAYER_GAP,
            y: row * ROW_GAP + Math.round(random() * 40),
          },
          disabled: false,
        };
        nodes.push(node);
        placed.push({ id, outputs });
        for (const [source, output, port] of wired) {
          edges.push({
            id: `${source.id}.${output.name}-${id}.${port.name}`,
            source: source.id,
            source_port: output.name,
            target: id,
            target_port: port.name,
          });
        }
        break;
      }
    }
    layers.push(placed);
  }
  return {
    schema: "rivulet.flow/v1",
    id: "",
    name: `Canvas bench ${count} nodes`,
    description: "Generated by bench/canvas_bench.mjs",
    version: 0,
    nodes,
    edges,
  };
}

// ---- measurements ------------------------------------------------------------------------------------------

/**
 * Installed before any page script: samples every animation frame (the viewport transform and the number of
 * rendered nodes while opening; the frame timestamps while recording an interaction).
 */
function frameProbe() {
  const bench = {
    changes: [],
    last: "",
    recording: null,
  };
  window.__canvasBench = bench;
  const tick = (time) => {
    const viewport = document.querySelector(".react-flow__viewport");
    const state = [
      viewport ? viewport.style.transform : "",
      document.querySelectorAll(".react-flow__node").length,
      document.querySelectorAll(".react-flow__edge").length,
    ].join("|");
    if (state !== bench.last) {
      bench.last = state;
      bench.changes.push([time, state]);
    }
    if (bench.recording) bench.recording.push(time);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

function quantile(sorted, q) {
  if (!sorted.length) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

function frameStats(times) {
  const deltas = [];
  for (let i = 1; i < times.length; i++) deltas.push(times[i] - times[i - 1]);
  const sorted = [...deltas].sort((a, b) => a - b);
  return {
    frames: deltas.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted.at(-1) ?? Number.NaN,
    over33: deltas.filter((delta) => delta > 33.4).length,
  };
}

const INITIAL_VIEWPORT = "translate(0px, 0px) scale(1)";

async function openFlow(page, base, flow) {
  await page.goto(`${base}/flows/${flow.id}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await page.evaluate(() => {
      const bench = window.__canvasBench;
      const [time, last] = bench.changes.at(-1) ?? [0, ""];
      return { time, last, now: performance.now() };
    });
    const [transform, rendered, edges] = state.last.split("|");
    const count = Number(rendered);
    // Fitted: moved off the initial viewport, with the nodes and (once measured) their edges shown;
    // a flow that happens to fit at the initial viewport counts once nothing changed for 6 s.
    const fitted =
      transform &&
      transform !== INITIAL_VIEWPORT &&
      count > 0 &&
      (Number(edges) > 0 || !flow.edges);
    const quiet = state.now - state.time;
    if ((fitted && quiet > 1_500) || (count > 0 && quiet > 6_000)) {
      const extra = await page.evaluate(() => {
        const mark = performance.getEntriesByName("rivulet:canvas-fitted")[0];
        return { mark: mark ? mark.startTime : null };
      });
      return { openMs: state.time, rendered: count, transform, ...extra };
    }
    if (Date.now() > deadline) throw new Error(`flow ${flow.id} did not settle: ${state.last}`);
    await page.waitForTimeout(100);
  }
}

/** A point of the canvas where the empty pane (not a node, edge or control) takes the pointer. */
async function panePoint(page) {
  const point = await page.evaluate(() => {
    const pane = document.querySelector(".react-flow__pane");
    if (!pane) return null;
    const box = pane.getBoundingClientRect();
    const centre = { x: box.left + box.width / 2, y: box.top + box.height / 2 };
    const candidates = [];
    for (let fy = 0.15; fy <= 0.85; fy += 0.035) {
      for (let fx = 0.15; fx <= 0.85; fx += 0.035) {
        const x = box.left + box.width * fx;
        const y = box.top + box.height * fy;
        const element = document.elementFromPoint(x, y);
        if (element?.classList.contains("react-flow__pane")) {
          candidates.push({ x, y, d: Math.hypot(x - centre.x, y - centre.y) });
        }
      }
    }
    candidates.sort((a, b) => a.d - b.d);
    return candidates[0] ?? null;
  });
  if (!point) throw new Error("no empty pane point to drag from");
  return point;
}

/** The renderer's main-thread busy time so far (ms): scripts, style, layout, paint records. */
async function busyMs(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return 1000 * (metrics.find((metric) => metric.name === "TaskDuration")?.value ?? 0);
}

async function record(page, cdp, action) {
  await page.evaluate(() => {
    window.__canvasBench.recording = [];
  });
  const busy = await busyMs(cdp);
  await action();
  const stats = frameStats(await page.evaluate(() => window.__canvasBench.recording.splice(0)));
  return { ...stats, busyPerFrame: ((await busyMs(cdp)) - busy) / Math.max(1, stats.frames) };
}

async function panAndZoom(page, cdp, seconds) {
  const start = await panePoint(page);
  const pan = await record(page, cdp, async () => {
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    const began = Date.now();
    while (Date.now() - began < seconds * 1000) {
      const angle = ((Date.now() - began) / 1000) * Math.PI * 1.5;
      await page.mouse.move(start.x + 160 * Math.sin(angle), start.y + 90 * (1 - Math.cos(angle)));
      await page.waitForTimeout(8);
    }
    await page.mouse.up();
  });
  const canvas = await page.locator(".react-flow__pane").boundingBox();
  const zoom = await record(page, cdp, async () => {
    await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
    const began = Date.now();
    let step = 0;
    while (Date.now() - began < seconds * 1000) {
      // In for 12 steps, out for 12: the zoom stays within a useful range.
      await page.mouse.wheel(0, step % 24 < 12 ? -60 : 60);
      step++;
      await page.waitForTimeout(16);
    }
  });
  return { pan, zoom };
}

async function measure(context, base, flow, seconds) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  try {
    const open = await openFlow(page, base, flow);
    open.busyMs = await busyMs(cdp);
    await page.waitForTimeout(500);
    const { pan, zoom } = await panAndZoom(page, cdp, seconds);
    return { open, pan, zoom, errors };
  } finally {
    await page.close();
  }
}

// ---- report ------------------------------------------------------------------------------------------------

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

function summarise(results) {
  const pick = (fn) => median(results.map(fn));
  const frames = (kind) => ({
    p50: pick((r) => r[kind].p50),
    p95: pick((r) => r[kind].p95),
    max: pick((r) => r[kind].max),
    over33: pick((r) => r[kind].over33),
    frames: pick((r) => r[kind].frames),
    busyPerFrame: pick((r) => r[kind].busyPerFrame),
  });
  return {
    openMs: pick((r) => r.open.openMs),
    markMs: pick((r) => r.open.mark ?? Number.NaN),
    busyMs: pick((r) => r.open.busyMs),
    rendered: pick((r) => r.open.rendered),
    pan: frames("pan"),
    zoom: frames("zoom"),
  };
}

const COLUMNS = [
  ["flow", 11],
  ["open", 6],
  ["mark", 6],
  ["busy", 6],
  ["drawn", 5],
  ["pan p50", 7],
  ["p95", 6],
  ["max", 6],
  [">33ms", 7],
  ["busy/f", 6],
  ["zoom p50", 8],
  ["p95", 6],
  ["max", 6],
  [">33ms", 7],
  ["busy/f", 6],
];

function row(label, s) {
  const frames = (kind) => [
    fmt(s[kind].p50),
    fmt(s[kind].p95),
    fmt(s[kind].max),
    `${fmt(s[kind].over33, 0)}/${fmt(s[kind].frames, 0)}`,
    fmt(s[kind].busyPerFrame),
  ];
  const cells = [
    label,
    fmt(s.openMs, 0),
    fmt(s.markMs, 0),
    fmt(s.busyMs, 0),
    fmt(s.rendered, 0),
    ...frames("pan"),
    ...frames("zoom"),
  ];
  return cells.map((cell, index) => (index ? cell.padStart(COLUMNS[index][1]) : cell)).join(" ");
}

/** The table's header, its first column `width` wide. */
function header(width) {
  return COLUMNS.map(([name, size], index) =>
    index ? name.padStart(size) : name.padEnd(width),
  ).join(" ");
}

const LEGEND = `All times in ms. open: navigation start → nodes and edges shown in the fitted view; mark: the
editor's rivulet:canvas-fitted mark (when it sets one); busy: the renderer's main-thread busy time from
navigation until the view had settled for 1.5 s; drawn: nodes in the DOM once open; pan/zoom: frame-to-frame
times (requestAnimationFrame) while dragging the pane / wheeling in and out, frames over 33 ms of all, and
main-thread busy time per frame (busy/f: less sensitive than frame times to other load on the machine).`;

// ---- main --------------------------------------------------------------------------------------------------

async function apiClient(base) {
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: PASSWORD, mode: "token" }),
  });
  if (!login.ok) throw new Error(`login: ${login.status}`);
  const { token } = await login.json();
  return async (method, route, body) => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return response.json();
  };
}

/** One server per build of the editor (`--dist`, repeatable), each with its own copy of the flows. */
async function setUpBuild(dist, documents) {
  const server = await startServer(dist);
  try {
    const api = await apiClient(server.base);
    const flows = [];
    for (const document of documents) {
      const created = await api("POST", "/api/flows", { document, message: "canvas bench" });
      flows.push({
        id: created.summary.id,
        nodes: document.nodes.length,
        edges: document.edges.length,
        label: `${document.nodes.length} nodes`,
      });
    }
    return { label: dist ? path.basename(dist) : "frontend/dist", server, flows };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const dists = options.dist.length ? options.dist : [""];
  const builds = [];
  let browser;
  try {
    // The flows are generated against the first server (its catalog, its dynamic ports) and created
    // on every server, so every build opens the same documents.
    const first = await startServer(dists[0]);
    const documents = [];
    try {
      const api = await apiClient(first.base);
      const catalog = await api("GET", "/api/operators");
      for (const count of [options.baseline, options.nodes]) {
        const document = await generateFlow(api, catalog, count, options.seed + count);
        const report = await api("POST", "/api/flows/validate", document);
        const errors = (report.diagnostics ?? []).filter(
          (d) => d.severity !== "warning" && d.severity !== "info",
        );
        documents.push(document);
        console.log(
          `flow: ${document.nodes.length} nodes, ${document.edges.length} edges, ` +
            `${errors.length} compile errors${errors.length ? ` (first: ${errors[0].message})` : ""}`,
        );
        if (options.flowsOnly) for (const error of errors) console.log(`  ${error.message}`);
      }
    } finally {
      await first.stop();
    }
    if (options.flowsOnly) return;
    for (const dist of dists) builds.push(await setUpBuild(dist, documents));

    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    for (const build of builds) {
      // One context per server: the session cookies of two servers on 127.0.0.1 would clash.
      build.context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await build.context.addInitScript(frameProbe);
      const login = await build.context.request.post(`${build.server.base}/api/auth/login`, {
        data: { username: "admin", password: PASSWORD },
      });
      if (!login.ok()) throw new Error(`login: ${login.status()}`);
      build.results = new Map(build.flows.map((flow) => [flow.id, []]));
    }

    const many = builds.length > 1;
    const label = (build, flow) => (many ? `${build.label} ${flow.label}` : flow.label);
    const width = Math.max(
      COLUMNS[0][1],
      ...builds.flatMap((b) => b.flows.map((f) => label(b, f).length)),
    );
    const line = (text, summary) => row(text.padEnd(width), summary);
    console.log(`\n${LEGEND}\n`);
    console.log(`round ${header(width)}`);
    // Builds and flows take turns within each round: a busy machine slows them alike.
    for (let round = 1; round <= options.rounds; round++) {
      for (const build of builds) {
        for (const flow of build.flows) {
          const result = await measure(build.context, build.server.base, flow, options.seconds);
          build.results.get(flow.id).push(result);
          console.log(
            `${String(round).padEnd(5)} ${line(label(build, flow), summarise([result]))}`,
          );
          if (result.errors.length) console.log(`      page errors: ${result.errors.join(" | ")}`);
        }
      }
    }
    console.log(`\nmedian of ${options.rounds} rounds`);
    console.log(`      ${header(width)}`);
    const ratio = (a, b) => fmt(a / b, 2);
    const summaries = builds.map((build) =>
      build.flows.map((f) => summarise(build.results.get(f.id))),
    );
    builds.forEach((build, index) => {
      for (const [n, flow] of build.flows.entries()) {
        console.log(`      ${line(label(build, flow), summaries[index][n])}`);
      }
    });
    builds.forEach((build, index) => {
      const [small, large] = summaries[index];
      const [smallFlow, largeFlow] = build.flows;
      console.log(
        `\n${many ? `${build.label}: ` : ""}ratios ${largeFlow.label} / ${smallFlow.label}: ` +
          `open ${ratio(large.openMs, small.openMs)}x (+${fmt(large.openMs - small.openMs, 0)} ms), ` +
          `pan p95 ${ratio(large.pan.p95, small.pan.p95)}x, zoom p95 ${ratio(large.zoom.p95, small.zoom.p95)}x, ` +
          `pan max ${ratio(large.pan.max, small.pan.max)}x, zoom max ${ratio(large.zoom.max, small.zoom.max)}x`,
      );
    });
    if (options.keep) {
      for (const build of builds) {
        console.log(`\nkept running: ${build.label} at ${build.server.base} (admin / ${PASSWORD})`);
        for (const flow of build.flows) console.log(`  ${flow.label}: /flows/${flow.id}`);
      }
      console.log("Ctrl-C to stop");
      await new Promise(() => undefined);
    }
  } finally {
    await browser?.close();
    for (const build of builds) await build.server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
