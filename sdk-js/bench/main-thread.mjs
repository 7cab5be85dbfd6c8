// Main-thread cost of the SDK on a page load, measured in headless Chromium.
//
//   node bench/main-thread.mjs [--pairs N] [--traced N] [--budget MS] [--sdk FILE] [--compare FILE] [--strict]
//   node bench/main-thread.mjs --profile N [--sdk FILE] [--compare FILE] [--budget MS] [--strict]
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
// --profile N: instead of the above, N rounds of the same variants (rotating order) under the V8
// CPU profiler (50 µs sampling), which gives time stamps, so the cost is split at the end of the
// load event (navigationStart + loadEventEnd, on the profiler's clock):
//   - load window: navigation start -> load event end (what can delay the page's loading),
//   - after load: load event end -> load + 1.5 s (observers, page view, one flush),
//   - total: both.
// For each: JavaScript time (samples in any script, native calls counted for the script calling
// them) with - without, per round, median and IQR; the same for web-vitals alone (reference);
// the busy time of the whole main thread (every sample but (idle): also style, layout, GC, HTML
// parsing; much noisier); and the JavaScript self time per function of the variants (median of
// the N loads per function; the top functions of the load window too). Samples are counted, each
// weighing the median sampling interval, so time the thread spent descheduled on a busy machine
// is mostly not counted (a blocking call such as the first localStorage read still is).
// It also prints when the load event ended (with - without, per round) and how long after its
// response ended the SDK's script started running: not main-thread time, but what a change that
// moves work off the main thread (e.g. a compile hint: compiled on the streaming thread before
// the script can run) can delay.
//
// The verdict also prints a distribution-free 95 % confidence interval of the median (order
// statistics), and BENCH_JSON=FILE writes the per-round figures.
//
// --budget MS (default 2) and --strict: the budget is about the load window, the main-thread time
// the SDK adds while the page loads (navigation start -> load event end, with - without; see
// README "Budgets", changed on 2026-12-06 from the total): the verdict compares the JavaScript
// delta of the load window (--profile) or the untraced TaskDuration delta at the load event
// (default mode: a snapshot taken when Playwright sees the load event, so it can hold what runs
// right after it, e.g. the SDK's task after the load: an upper bound) to it; --strict exits 1 over budget. The total (until load +
// 1.5 s) is printed next to it and must not get worse.
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
// The marks go after the file's leading `//#` comment lines: a compile hint (`//# allFunctionsCalledOnLoad`)
// counts only at the top of the file, as shipped.
const marked = (code, key) => {
  const head = (code.match(/^(\/\/#[^\n]*\n)+/) || [''])[0];
  return `${head}window.__${key}0=performance.now();\n${code.slice(head.length)}\n;window.__${key}1=performance.now();`;
};
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
/** Request body bytes the SDK sent (as sent: gzipped or not). */
let postedBytes = 0;
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
  if (url.pathname.startsWith('/v1/')) {
    posts++;
    req.on('data', (b) => (postedBytes += b.length));
    return req.on('end', () => send('application/json', '{}'));
  }
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
  const atLoad = (await cdp.send('Performance.getMetrics')).metrics;
  await p.waitForTimeout(1500);
  const metrics = (await cdp.send('Performance.getMetrics')).metrics;
  const r = Object.fromEntries(METRICS.map((k) => [k, metrics.find((m) => m.name === k).value * 1000]));
  for (const k of ['TaskDuration', 'ScriptDuration']) r[k + 'Load'] = atLoad.find((m) => m.name === k).value * 1000;
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

/**
 * One load of `variant` under the V8 sampling profiler. Returns the JavaScript self time (ms)
 * per function of the variant's own scripts, and, split at the load event's end
 * (navigationStart + loadEventEnd, on the profiler's clock): that self time in total, and the
 * renderer main thread's busy time (every sample but `(idle)`: script, compile, GC, style,
 * layout, parsing, ...) before and after the end of the load event.
 */
const profiledLoad = async (variant) => {
  const context = await browser.newContext();
  const p = await context.newPage();
  const cdp = await context.newCDPSession(p);
  const before = posts;
  const bytesBefore = postedBytes;
  await cdp.send('Performance.enable');
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', {interval: 50});
  await cdp.send('Profiler.start');
  await p.goto(`${origin}/${variant}.html`, {waitUntil: 'load'});
  await p.waitForTimeout(1500);
  const {nodes, samples, timeDeltas, startTime, endTime} = (await cdp.send('Profiler.stop')).profile;
  const navStart = (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'NavigationStart').value;
  const [loadEventEnd, started] = await p.evaluate((src) => {
    const res = src && performance.getEntriesByType('resource').find((e) => e.name.endsWith(src));
    // How long after its last byte arrived the variant's first script started running (its first
    // line's mark): the wait for the script's compile on the streaming thread, among others.
    return [performance.getEntriesByType('navigation')[0].loadEventEnd, res ? window.__e0 - res.responseEnd : 0];
  }, SCRIPTS[variant][0]);
  if ((variant === 'with' || variant === 'compare') && posts === before) throw new Error('the SDK sent nothing: the benchmark would measure an idle SDK');
  await context.close();
  // Both clocks are the renderer's monotonic TimeTicks (µs in the profile, s in the metrics).
  const loadEnd = navStart * 1e6 + loadEventEnd * 1000;
  if (!(loadEnd > startTime && loadEnd < endTime)) throw new Error(`load end ${loadEnd} outside the profile ${startTime}..${endTime}`);
  // Each sample weighs the median sampling interval, not the time since the previous sample:
  // that one also holds any time the thread was descheduled (a busy machine), a big spike.
  const weight = [...timeDeltas].sort((a, b) => a - b)[timeDeltas.length >> 1] / 1000;
  const byId = new Map(nodes.map((x) => [x.id, x]));
  const parent = new Map(nodes.flatMap((x) => (x.children || []).map((c) => [c, x])));
  // The function a sample counts for: native frames (no URL: localStorage, fetch, ...) count for
  // the script function calling them; null when not one of the variant's scripts.
  const keyOf = new Map();
  const isScript = new Set();
  const isApp = new Set();
  for (const node of nodes) {
    let f = node;
    while (!f.callFrame.url && parent.has(f.id)) f = parent.get(f.id);
    const {url, functionName, lineNumber, columnNumber} = f.callFrame;
    if (url) isScript.add(node.id);
    if (url === origin + '/app.js') isApp.add(node.id);
    keyOf.set(node.id, url && SCRIPTS[variant].some((src) => url === origin + src)
      ? `${url.slice(origin.length)}:${lineNumber + 1}:${columnNumber} ${functionName || '(anonymous)'}` : null);
  }
  const r = {loadEventEnd, started, bytes: postedBytes - bytesBefore, self: new Map(), selfInLoad: new Map(), selfLoad: 0, selfAfter: 0, busyLoad: 0, busyAfter: 0, jsLoad: 0, jsAfter: 0, appLoad: 0, appAfter: 0};
  let t = startTime;
  samples.forEach((id, i) => {
    t += timeDeltas[i];
    const inLoad = t <= loadEnd;
    if (byId.get(id).callFrame.functionName !== '(idle)') r[inLoad ? 'busyLoad' : 'busyAfter'] += weight;
    if (isScript.has(id)) r[inLoad ? 'jsLoad' : 'jsAfter'] += weight;
    if (isApp.has(id)) r[inLoad ? 'appLoad' : 'appAfter'] += weight;
    const key = keyOf.get(id);
    if (!key) return;
    r.self.set(key, (r.self.get(key) || 0) + weight);
    if (inLoad) r.selfInLoad.set(key, (r.selfInLoad.get(key) || 0) + weight);
    r[inLoad ? 'selfLoad' : 'selfAfter'] += weight;
  });
  r.selfTotal = r.selfLoad + r.selfAfter;
  r.busyTotal = r.busyLoad + r.busyAfter;
  r.jsTotal = r.jsLoad + r.jsAfter;
  r.appTotal = r.appLoad + r.appAfter;
  return r;
};

/** Self time per function, the median over loads: one long wait (e.g. a sync IPC on a busy machine) does not make a function look expensive. */
const medianSelf = (loads, m = 'self') => {
  const keys = new Set(loads.flatMap((l) => [...l[m].keys()]));
  return new Map([...keys].map((k) => [k, median(loads.map((l) => l[m].get(k) || 0))]));
};
const SOURCES = {'/sdk.js': SDK, '/sdk2.js': SDK2, '/init.js': INIT, '/wv.js': WV, '/wv-init.js': WV_INIT};
const printProfile = (variant, self, n, what = '', top = 25) => {
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`\nJavaScript self time of the ${variant} variant's scripts${what}, ms (median of ${n} loads per function; sum ${total.toFixed(2)})`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const [, src, line, col] = key.match(/^(\S+):(\d+):(\d+)/);
    const text = (SOURCES[src] || '').split('\n')[line - 1] || '';
    console.log(`${ms.toFixed(2).padStart(7)}  ${key.padEnd(34)} ${text.slice(Number(col), Number(col) + 70).replace(/\s+/g, ' ')}`);
  }
};
if (PROFILE > 0) {
  const rs = [];
  try {
    for (let i = 0; i < PROFILE; i++) {
      const round = {};
      for (const v of order(i)) round[v] = await profiledLoad(v);
      rs.push(round);
      process.stderr.write('p');
    }
  } finally {
    process.stderr.write('\n');
    await browser.close();
    server.close();
  }
  for (const v of ['with', 'webvitals', ...(compareFile ? ['compare'] : [])]) printProfile(v, medianSelf(rs.map((r) => r[v])), PROFILE);
  printProfile('with', medianSelf(rs.map((r) => r.with), 'selfInLoad'), PROFILE, ' in the load window', 12);
  const f = (x) => x.toFixed(2);
  const spread = (xs) => `${f(q(xs, 0.25))}..${f(q(xs, 0.75))}`;
  const line = (a, b = '', c = '', d = '', e = '') =>
    console.log(`| ${a.padEnd(58)} | ${String(b).padStart(17)} | ${String(c).padStart(17)} | ${String(d).padStart(17)} |${e}`);
  const cell = (xs) => `${f(median(xs))} (${spread(xs)})`;
  console.log(`\nmain thread, ms, median (IQR) of ${PROFILE} rounds under the V8 sampling profiler; the load window is`);
  console.log('navigation start -> load event end, "after" is load event end -> load + 1.5 s (one flush)');
  line('', 'load window', 'after load', 'total');
  console.log(`|${'-'.repeat(60)}|${'-'.repeat(19)}|${'-'.repeat(19)}|${'-'.repeat(19)}|`);
  const parts = ['Load', 'After', 'Total'];
  const row3 = (label, fn) => line(label, ...parts.map((k) => cell(rs.map((r) => fn(r, k)))));
  const delta = (v, m = 'js', w = 'without') => (r, k) => r[v][m + k] - r[w][m + k];
  row3('SDK: JavaScript, with - without (per round)', delta('with'));
  row3('web-vitals alone (reference): JavaScript, with - without', delta('webvitals'));
  row3('SDK beyond web-vitals: JavaScript, with - web-vitals alone', delta('with', 'js', 'webvitals'));
  row3('  self time in the SDK\'s scripts (sdk.js + init.js)', (r, k) => r.with['self' + k]);
  row3('  self time in web-vitals\' scripts (reference)', (r, k) => r.webvitals['self' + k]);
  row3('SDK: busy time, with - without (all main-thread work)', delta('with', 'busy'));
  row3('web-vitals alone: busy time, with - without', delta('webvitals', 'busy'));
  row3('page without SDK: JavaScript', (r, k) => r.without['js' + k]);
  // The page's own script (its load handler's fetch and XHR calls, native time included): in the
  // with variant the SDK's wrappers make those calls, so their native time counts for sdk.js.
  row3('  of which the page\'s app.js (self, natives included)', (r, k) => r.without['app' + k]);
  row3('  the same in the with variant (the wrappers\' calls not in it)', (r, k) => r.with['app' + k]);
  row3('page without SDK: busy time', (r, k) => r.without['busy' + k]);
  if (compareFile) {
    row3(`--compare ${compareFile.split('/').pop()}: JavaScript, with - without`, delta('compare'));
    row3('--sdk minus --compare: JavaScript (per round)', delta('with', 'js', 'compare'));
    row3('--sdk minus --compare: self time in the SDK\'s scripts', delta('with', 'self', 'compare'));
    row3('--sdk minus --compare: busy time (per round)', delta('with', 'busy', 'compare'));
  }
  for (const v of ['with', ...(compareFile ? ['compare'] : [])]) {
    console.log(`request bytes the ${v} variant sent per load (median): ${median(rs.map((r) => r[v].bytes))}`);
  }
  // Not main-thread time: when the page's load event ended (e.g. a script compiled longer on the
  // streaming thread would delay it), per round, with - without.
  for (const v of ['with', 'webvitals', ...(compareFile ? ['compare'] : [])]) {
    const d = rs.map((r) => r[v].loadEventEnd - r.without.loadEventEnd);
    console.log(`load event end, ${v} - without, ms after navigation start (per round): ${f(median(d))} (IQR ${spread(d)})`);
  }
  for (const v of ['with', 'webvitals', ...(compareFile ? ['compare'] : [])]) {
    const d = rs.map((r) => r[v].started);
    console.log(`${v}: its first script started running ms after its response end: ${f(median(d))} (IQR ${spread(d)})`);
  }
  if (compareFile) {
    const d = rs.map((r) => r.with.started - r.compare.started);
    console.log(`  --sdk minus --compare, per round: ${f(median(d))} (IQR ${spread(d)})`);
  }
  // The budget is about the load window (see README, "Budgets"); the total is printed with it.
  const verdict = (label, xs) => {
    const m = median(xs);
    console.log(`${label}: ${f(m)} ms, budget ${f(BUDGET_MS)} ms: ${m <= BUDGET_MS ? 'met' : 'NOT met'}`);
    return m <= BUDGET_MS;
  };
  const loadWindow = rs.map((r) => delta('with')(r, 'Load'));
  const met = verdict('budget: SDK JavaScript with - without, load window (navigation start -> load event end)', loadWindow);
  console.log(`  upper quartile of the load window: ${f(q(loadWindow, 0.75))} ms`);
  // How precisely the rounds pin the median down: a distribution-free 95 % confidence interval
  // (order statistics: ranks n/2 -+ 0.98 sqrt(n), from the binomial's normal approximation).
  const ci = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const k = Math.max(0, Math.floor((s.length - 1.96 * Math.sqrt(s.length)) / 2));
    return `${f(s[k])}..${f(s[s.length - 1 - k])}`;
  };
  console.log(`  95 % confidence interval of that median (order statistics, ${PROFILE} rounds): ${ci(loadWindow)} ms`);
  if (compareFile) console.log(`  the same for --sdk minus --compare, load window, per round: ${ci(rs.map((r) => delta('with', 'js', 'compare')(r, 'Load')))} ms`);
  if (process.env.BENCH_JSON) {
    // Per-round figures, for pooling runs (not the budgeted figure, which is one run's median).
    const {writeFileSync} = await import('node:fs');
    writeFileSync(process.env.BENCH_JSON, JSON.stringify(rs.map((r) => Object.fromEntries(Object.entries(r).map(([v, x]) =>
      [v, {jsLoad: x.jsLoad, jsAfter: x.jsAfter, busyLoad: x.busyLoad, busyAfter: x.busyAfter, loadEventEnd: x.loadEventEnd, started: x.started}])))));
  }
  const total = rs.map((r) => delta('with')(r, 'Total'));
  console.log(`  the total (until load + 1.5 s), not budgeted, must not get worse: ${f(median(total))} ms (IQR ${spread(total)})`);
  process.exit(STRICT && !met ? 1 : 0);
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
row('  at the load event (snapshot): TaskDuration delta', f(median(diffs(untraced, 'with', 'TaskDurationLoad'))), spread(diffs(untraced, 'with', 'TaskDurationLoad')));
row('  at the load event (snapshot): ScriptDuration delta', f(median(diffs(untraced, 'with', 'ScriptDurationLoad'))), spread(diffs(untraced, 'with', 'ScriptDurationLoad')));
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
const atLoadCost = median(diffs(untraced, 'with', 'TaskDurationLoad'));
row(`budget: untraced TaskDuration delta at the load event`, f(BUDGET_MS), atLoadCost <= BUDGET_MS ? 'met' : 'NOT met');
console.log('(split exactly at the load event end, JavaScript only: --profile N, the figures of the README)');
if (STRICT && !(atLoadCost <= BUDGET_MS)) process.exit(1);
