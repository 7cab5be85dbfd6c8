// Main-thread cost of the SDK on a page load, measured in headless Chromium.
//
//   node bench/main-thread.mjs [--pairs N] [--traced N] [--budget MS] [--sdk FILE] [--compare FILE] [--strict]
//
// The SDK's cost is the main-thread time of the same fixture page with the SDK minus without
// it. Each round loads the page without the SDK, with the SDK (dist/vitalsight.iife.js + an
// init script) and with Google's web-vitals attribution build alone (the reference), in an
// order that alternates between rounds, each load in a fresh browser context (fresh renderer,
// empty HTTP cache: a first visit). The page stays open 1.5 s after `load`, so that the SDK's
// observers, the page_view event and one batch flush (`flushInterval: 1000`) are inside.
//
// Untraced (the figures that count): CDP `Performance.getMetrics` of the page's renderer main
// thread at load + 1.5 s: TaskDuration (every main-thread task: script, compile, style,
// layout, GC, ...) and ScriptDuration (JavaScript only). The cost is the median of the per-round
// differences (with - without), printed with its interquartile range, and as a share of the
// page's own main-thread time. Parts, untraced: evaluation of the bundle and the init() call
// (performance.now() before/after each script).
//
// Traced (a few rounds, for the breakdown only): a Chromium trace (devtools.timeline, v8) of
// the same loads. Tracing slows the renderer down (it records every task), so its absolute
// numbers are printed next to the untraced ones with the inflation factor, not budgeted.
// Breakdown: compile and evaluation of sdk.js, init.js, callbacks of the SDK (listeners,
// timers, observers, flush: FunctionCall events whose script is the SDK's) before and after
// the load event.
//
// --compare FILE: a second build (e.g. the one before a change) loaded in the same rounds as a
// fourth variant, so that a before/after comparison sees the same machine load: the report adds
// its cost and the median of the per-round differences (--sdk build - --compare build).
//
// --profile N: instead of the above, N loads of each variant (SDK, reference) under the V8 CPU
// profiler (50 µs sampling), then the JavaScript self time per function, median of the N loads,
// with the start of each function's source: where the time goes, with less noise than the
// per-round differences (samples are counted, so time the thread spent descheduled on a busy
// machine is not; a blocking call such as the first localStorage read still is). Native calls
// (localStorage, fetch, ...) count for the script function making them.
//
// --budget MS (default 2): the verdict line compares the untraced TaskDuration median to it;
// the exit status is 1 over budget only with --strict (it is a measurement, not a test).
import {chromium} from 'playwright-core';
import {createServer} from 'node:http';
import {readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const PAIRS = Number(arg('--pairs', 15));
const TRACED = Number(arg('--traced', 4));
const BUDGET_MS = Number(arg('--budget', 2));
const STRICT = process.argv.includes('--strict');
const PROFILE = Number(arg('--profile', 0));
const root = fileURLToPath(new URL('..', import.meta.url));
const sdkFile = arg('--sdk', '') ? resolve(arg('--sdk')) : join(root, 'dist/vitalsight.iife.js');
// performance.now() before and after the bundle's evaluation (its compile happens before the
// first mark; the trace has it). Same wrapping for the reference.
const marked = (code, key) => `window.__${key}0=performance.now();\n${code}\n;window.__${key}1=performance.now();`;
const SDK = marked(readFileSync(sdkFile, 'utf8'), 'e');
const compareFile = arg('--compare', '') && resolve(arg('--compare'));
const SDK2 = compareFile ? marked(readFileSync(compareFile, 'utf8'), 'e') : '';
// The reference: Google's web-vitals attribution build alone, started the same way.
const WV = marked(readFileSync(join(root, 'node_modules/web-vitals/dist/web-vitals.attribution.iife.js'), 'utf8'), 'e');
const WV_INIT = `addEventListener('load', () => setTimeout(() => {
  const f = () => {}; webVitals.onLCP(f); webVitals.onCLS(f); webVitals.onINP(f); webVitals.onTTFB(f); webVitals.onFCP(f);
}));`;

const INIT = `const t0 = performance.now();
vitalsight.init({endpoint: location.origin, app: 'bench', release: '1', flushInterval: 1000${process.env.BENCH_INIT ? ', ' + process.env.BENCH_INIT : ''}});
window.__initMs = performance.now() - t0;`;
const SCRIPTS = {with: ['/sdk.js', '/init.js'], webvitals: ['/wv.js', '/wv-init.js'], without: [], compare: ['/sdk2.js', '/init.js']};
const page = (variant) => `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
${SCRIPTS[variant].map((src) => `<script src="${src}"></script>`).join('')}
<link rel="stylesheet" href="/style.css"></head><body>
<h1>Product list</h1>
<ul>${Array.from({length: 200}, (_, i) => `<li class="item">Item ${i} <img src="/img/${i % 5}.png" width="40" height="40" alt=""></li>`).join('')}</ul>
<button id="b">Buy</button>
<script src="/app.js"></script>
</body></html>`;
const APP = `addEventListener('load', () => { fetch('/api/items/1'); fetch('/api/items/2');
  const x = new XMLHttpRequest(); x.open('GET', '/api/cart'); x.send(); });
document.getElementById('b').addEventListener('click', () => {});`;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let posts = 0;
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (type, body, status = 200) => {
    const cache = /^\/(sdk|sdk2|init|wv|wv-init)\.js$/.test(url.pathname) ? 'max-age=3600' : 'no-store';
    res.writeHead(status, {'Content-Type': type, 'Cache-Control': cache});
    res.end(body);
  };
  const variant = url.pathname.slice(1, -5);
  if (SCRIPTS[variant]) return send('text/html', page(variant));
  if (url.pathname === '/wv.js') return send('text/javascript', WV);
  if (url.pathname === '/wv-init.js') return send('text/javascript', WV_INIT);
  if (url.pathname === '/sdk.js') return send('text/javascript', SDK);
  if (url.pathname === '/sdk2.js') return send('text/javascript', SDK2);
  if (url.pathname === '/init.js') return send('text/javascript', INIT);
  if (url.pathname === '/app.js') return send('text/javascript', APP);
  if (url.pathname === '/style.css') return send('text/css', 'body{font:14px sans-serif}.item{margin:2px}');
  if (url.pathname.startsWith('/img/')) return send('image/png', PNG);
  if (url.pathname.startsWith('/v1/')) return (posts++, req.resume()).on('end', () => send('application/json', '{}'));
  return send('application/json', '{"ok":true}');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
if (process.env.BENCH_SERVE) {
  console.log(origin);
  await new Promise(() => {});
}

/** Trace figures of one load: renderer main-thread totals and the SDK's attributed parts. */
const analyse = (trace, variant) => {
  const urls = new Set(SCRIPTS[variant].map((src) => origin + src));
  const events = JSON.parse(trace).traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args && e.args.name === 'CrRendererMain' &&
    events.some((x) => x.pid === e.pid && x.name === 'MarkLoad'));
  if (!main) throw new Error('no renderer main thread with a load event in the trace');
  const onMain = events.filter((e) => e.ph === 'X' && e.pid === main.pid && e.tid === main.tid);
  const load = events.find((e) => e.name === 'MarkLoad' && e.pid === main.pid);
  // Top-level tasks of the main thread (the devtools' "Task"), nested ones counted once.
  let tasks = 0;
  let until = 0;
  for (const e of onMain.filter((x) => x.name === 'ThreadControllerImpl::RunTask' || x.name === 'RunTask').sort((a, b) => a.ts - b.ts)) {
    if (e.ts >= until) {
      tasks += e.dur || 0;
      until = e.ts + (e.dur || 0);
    }
  }
  const urlOf = (e) => {
    const d = (e.args && (e.args.data || e.args)) || {};
    return d.url || d.fileName || (d.stackTrace && d.stackTrace[0] && d.stackTrace[0].url);
  };
  const parts = {compile: 0, evaluate: 0, init: 0, beforeLoad: 0, afterLoad: 0};
  const mine = onMain
    .filter((e) => ['EvaluateScript', 'FunctionCall', 'v8.compile', 'V8.CompileCode', 'v8.produceCache'].includes(e.name) && urls.has(urlOf(e)))
    .sort((a, b) => a.ts - b.ts || (b.dur || 0) - (a.dur || 0));
  until = 0;
  let total = 0;
  for (const e of mine) {
    const ms = (e.dur || 0) / 1000;
    const isCompile = e.name !== 'EvaluateScript' && e.name !== 'FunctionCall';
    const first = urlOf(e) === origin + SCRIPTS[variant][0];
    if (isCompile && first) parts.compile += ms; // nested in EvaluateScript or not: both counted in evaluate
    if (e.ts < until) continue;
    until = e.ts + (e.dur || 0);
    total += ms;
    if (process.env.BENCH_DEBUG) {
      const d = (e.args && e.args.data) || {};
      console.error(`${ms.toFixed(2)} ms ${e.name} ${d.functionName || ''} ${urlOf(e)}:${d.lineNumber || ''}:${d.columnNumber || ''}`);
    }
    if (e.name === 'FunctionCall') parts[load && e.ts >= load.ts ? 'afterLoad' : 'beforeLoad'] += ms;
    else if (first) parts.evaluate += ms;
    else parts.init += ms;
  }
  return {tasks: tasks / 1000, attributed: total, ...parts};
};

// chromium.launch() runs with a fresh temporary user-data-dir of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const METRICS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'];
const load = async (variant, traced = false) => {
  const context = await browser.newContext();
  const p = await context.newPage();
  if (process.env.BENCH_DEBUG) {
    p.on('console', (m) => console.error('console:', m.text()));
    p.on('pageerror', (e) => console.error('pageerror:', e.message));
  }
  const cdp = await context.newCDPSession(p);
  const before = posts;
  await cdp.send('Performance.enable');
  if (traced) await browser.startTracing(p, {categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8']});
  await p.goto(`${origin}/${variant}.html`, {waitUntil: 'load'});
  await p.waitForTimeout(1500);
  const metrics = (await cdp.send('Performance.getMetrics')).metrics;
  const r = Object.fromEntries(METRICS.map((k) => [k, metrics.find((m) => m.name === k).value * 1000]));
  Object.assign(r, await p.evaluate(() => ({evalMs: window.__e1 - window.__e0 || 0, initMs: window.__initMs || 0})));
  if (traced) Object.assign(r, analyse((await browser.stopTracing()).toString(), variant));
  if ((variant === 'with' || variant === 'compare') && posts === before) throw new Error('the SDK sent nothing: the benchmark would measure an idle SDK');
  await context.close();
  return r;
};

const VARIANTS = ['without', 'with', 'webvitals', ...(compareFile ? ['compare'] : [])];
// Each variant takes each position in turn (a rotation per round).
const order = (i) => VARIANTS.map((_, k) => VARIANTS[(i + k) % VARIANTS.length]);
const rounds = async (n, traced) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const round = {};
    for (const v of order(i)) round[v] = await load(v, traced);
    out.push(round);
    process.stderr.write(traced ? 't' : '.');
  }
  return out;
};

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const median = (xs) => q(xs, 0.5);

/** JavaScript self time (ms) by function of `variant`'s scripts, median of N profiled loads. */
const profile = async (variant, n) => {
  const loads = [];
  for (let i = 0; i < n; i++) {
    const self = new Map();
    loads.push(self);
    const context = await browser.newContext();
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', {interval: 50});
    await cdp.send('Profiler.start');
    await p.goto(`${origin}/${variant}.html`, {waitUntil: 'load'});
    await p.waitForTimeout(1500);
    const {nodes, samples, timeDeltas} = (await cdp.send('Profiler.stop')).profile;
    await context.close();
    // Each sample weighs the median sampling interval, not the time since the previous sample:
    // that one also holds any time the thread was descheduled (a busy machine), a big spike.
    const weight = [...timeDeltas].sort((a, b) => a - b)[timeDeltas.length >> 1];
    const us = new Map();
    for (const id of samples) us.set(id, (us.get(id) || 0) + weight);
    // Native frames (no URL: localStorage, fetch, ...) count for the script function calling them.
    const parent = new Map(nodes.flatMap((x) => (x.children || []).map((c) => [c, x])));
    for (const node of nodes) {
      let f = node;
      while (!f.callFrame.url && parent.has(f.id)) f = parent.get(f.id);
      const {url, functionName, lineNumber, columnNumber} = f.callFrame;
      if (!url || !SCRIPTS[variant].some((src) => url === origin + src)) continue;
      const key = `${url.slice(origin.length)}:${lineNumber + 1}:${columnNumber} ${functionName || '(anonymous)'}`;
      self.set(key, (self.get(key) || 0) + (us.get(node.id) || 0) / 1000);
    }
    process.stderr.write('p');
  }
  // The median per function: a single long wait (e.g. a sync IPC on a busy machine) in one
  // load does not make a function look expensive.
  const keys = new Set(loads.flatMap((m) => [...m.keys()]));
  return new Map([...keys].map((k) => [k, median(loads.map((m) => m.get(k) || 0))]));
};
const SOURCES = {'/sdk.js': SDK, '/init.js': INIT, '/wv.js': WV, '/wv-init.js': WV_INIT};
const printProfile = (variant, self) => {
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`\nJavaScript self time of the ${variant} variant's scripts, ms (median of ${PROFILE} loads per function; sum ${total.toFixed(2)})`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    const [, src, line, col] = key.match(/^(\S+):(\d+):(\d+)/);
    const text = (SOURCES[src] || '').split('\n')[line - 1] || '';
    console.log(`${ms.toFixed(2).padStart(7)}  ${key.padEnd(34)} ${text.slice(Number(col), Number(col) + 70).replace(/\s+/g, ' ')}`);
  }
};
if (PROFILE > 0) {
  try {
    for (const v of ['with', 'webvitals']) printProfile(v, await profile(v, PROFILE));
  } finally {
    process.stderr.write('\n');
    await browser.close();
    server.close();
  }
  process.exit(0);
}

let untraced;
let traced;
try {
  for (const v of VARIANTS) await load(v); // warm-up (binary in the disk cache, harness JIT)
  untraced = await rounds(PAIRS, false);
  traced = await rounds(TRACED, true);
} finally {
  process.stderr.write('\n');
  await browser.close();
  server.close();
}

const f = (x) => x.toFixed(2);
const spread = (xs) => `${f(q(xs, 0.25))}..${f(q(xs, 0.75))}`;
const diffs = (rs, v, k) => rs.map((r) => r[v][k] - r.without[k]);
const col = (rs, v, k) => rs.map((r) => r[v][k]);
const row = (a, b = '', c = '') => console.log(`| ${a.padEnd(62)} | ${String(b).padStart(9)} | ${String(c).padStart(13)} |`);

row(`main-thread ms, first visit, until load + 1.5 s`, 'median', 'IQR');
console.log(`|${'-'.repeat(64)}|${'-'.repeat(11)}|${'-'.repeat(15)}|`);
row(`untraced (CDP Performance.getMetrics), ${PAIRS} alternating rounds`);
row('  page without SDK: TaskDuration', f(median(col(untraced, 'without', 'TaskDuration'))), spread(col(untraced, 'without', 'TaskDuration')));
row('  page with SDK:    TaskDuration', f(median(col(untraced, 'with', 'TaskDuration'))), spread(col(untraced, 'with', 'TaskDuration')));
const cost = median(diffs(untraced, 'with', 'TaskDuration'));
const base = median(col(untraced, 'without', 'TaskDuration'));
row('  SDK cost = with - without, TaskDuration (per-round delta)', f(cost), spread(diffs(untraced, 'with', 'TaskDuration')));
row('    as a share of the page\'s own main-thread time', `${(100 * cost / base).toFixed(1)} %`);
row('  SDK cost, ScriptDuration delta (JavaScript only)', f(median(diffs(untraced, 'with', 'ScriptDuration'))), spread(diffs(untraced, 'with', 'ScriptDuration')));
row('    page without SDK: ScriptDuration', f(median(col(untraced, 'without', 'ScriptDuration'))), spread(col(untraced, 'without', 'ScriptDuration')));
row('  SDK cost, Layout + RecalcStyle delta', f(median(untraced.map((r) => r.with.LayoutDuration + r.with.RecalcStyleDuration -
  r.without.LayoutDuration - r.without.RecalcStyleDuration))));
row('  parts: evaluation of sdk.js (performance.now, no compile)', f(median(col(untraced, 'with', 'evalMs'))), spread(col(untraced, 'with', 'evalMs')));
row('  parts: init() call (performance.now)', f(median(col(untraced, 'with', 'initMs'))), spread(col(untraced, 'with', 'initMs')));
row('  reference: web-vitals attribution alone, TaskDuration delta', f(median(diffs(untraced, 'webvitals', 'TaskDuration'))), spread(diffs(untraced, 'webvitals', 'TaskDuration')));
row('  reference: web-vitals attribution alone, ScriptDuration delta', f(median(diffs(untraced, 'webvitals', 'ScriptDuration'))), spread(diffs(untraced, 'webvitals', 'ScriptDuration')));
const beyond = (k) => untraced.map((r) => r.with[k] - r.webvitals[k]);
row('  SDK beyond web-vitals: with - web-vitals alone, TaskDuration', f(median(beyond('TaskDuration'))), spread(beyond('TaskDuration')));
row('  SDK beyond web-vitals: with - web-vitals alone, ScriptDuration', f(median(beyond('ScriptDuration'))), spread(beyond('ScriptDuration')));
if (compareFile) {
  row(`  --compare ${compareFile.split('/').pop()}: TaskDuration delta`, f(median(diffs(untraced, 'compare', 'TaskDuration'))), spread(diffs(untraced, 'compare', 'TaskDuration')));
  row('  --compare build: ScriptDuration delta', f(median(diffs(untraced, 'compare', 'ScriptDuration'))), spread(diffs(untraced, 'compare', 'ScriptDuration')));
  const paired = (k) => untraced.map((r) => r.with[k] - r.compare[k]);
  row('  --sdk minus --compare, TaskDuration (per-round)', f(median(paired('TaskDuration'))), spread(paired('TaskDuration')));
  row('  --sdk minus --compare, ScriptDuration (per-round)', f(median(paired('ScriptDuration'))), spread(paired('ScriptDuration')));
}
if (TRACED > 0) {
  row(`traced (devtools.timeline + v8), ${TRACED} rounds: breakdown only`);
  const tcost = median(diffs(traced, 'with', 'tasks'));
  row('  main-thread tasks delta in the trace (with - without)', f(tcost), spread(diffs(traced, 'with', 'tasks')));
  row('  TaskDuration delta while tracing', f(median(diffs(traced, 'with', 'TaskDuration'))), spread(diffs(traced, 'with', 'TaskDuration')));
  row('  tracing inflation of the page without SDK (traced/untraced)', `${(median(col(traced, 'without', 'TaskDuration')) / base).toFixed(2)}x`);
  row('  attributed to the SDK\'s scripts (URL), nested counted once', f(median(col(traced, 'with', 'attributed'))), spread(col(traced, 'with', 'attributed')));
  row('    compile of sdk.js (v8.compile)', f(median(col(traced, 'with', 'compile'))));
  row('    compile + evaluation of sdk.js', f(median(col(traced, 'with', 'evaluate'))));
  row('    init.js (init())', f(median(col(traced, 'with', 'init'))));
  row('    SDK callbacks before the load event (wrappers, listeners)', f(median(col(traced, 'with', 'beforeLoad'))));
  row('    SDK callbacks after load (observers, page_view, flush)', f(median(col(traced, 'with', 'afterLoad'))));
  row('  reference: web-vitals alone, attributed', f(median(col(traced, 'webvitals', 'attributed'))));
}
row(`budget (untraced TaskDuration delta)`, f(BUDGET_MS), cost <= BUDGET_MS ? 'met' : 'NOT met');
if (STRICT && !(cost <= BUDGET_MS)) process.exit(1);
