// Scheduling around the page load (core.ts): before the load event `start()` runs only the
// signal modules that must (request wrappers, error listeners, history) and keeps records in
// memory; late signal modules start in the task after the load, `onLoad` callbacks in idle
// time; a page hidden before its load starts the late signals and sends at once.
// idle() falls back to a task where requestIdleCallback is missing.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {idle} from '../../dist/esm/lib/idle.js';
import {late} from '../../dist/esm/lib/late.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A fake page: listeners, idle callbacks and sends are recorded; the core is a fresh module. */
const page = async (key) => {
  const p = {listeners: [], idles: [], sent: []};
  globalThis.window = globalThis;
  globalThis.location = new URL('https://shop.example/cart');
  globalThis.document = {readyState: 'loading', visibilityState: 'visible', referrer: ''};
  globalThis.addEventListener = (type, cb, o) => p.listeners.push({type, cb, o});
  globalThis.requestIdleCallback = (cb, o) => p.idles.push({cb, o});
  Object.defineProperty(globalThis, 'navigator', {configurable: true, value: {userAgent: 'test', language: 'en'}});
  globalThis.screen = {width: 1, height: 1};
  globalThis.devicePixelRatio = 1;
  globalThis.fetch = async (url, init) => {
    p.sent.push({url, body: JSON.parse(init.body), keepalive: !!init.keepalive});
    return new Response('{}');
  };
  p.core = await import(`../../dist/esm/core.js?${key}`);
  p.fire = (type) => p.listeners.filter((l) => l.type === type).forEach((l) => l.cb());
  return p;
};
const opts = {endpoint: 'https://rum.example', app: 'shop', persistence: 'memory', flushInterval: 10};

test('before the load only the early signal modules run; the rest waits for the load event', async () => {
  const p = await page('load');
  const ran = [];
  const early = (c) => {
    ran.push('early');
    c.event('exception', {'exception.message': 'before load'});
    c.onLoad(() => ran.push('idle'));
  };
  const vitalsLike = late((c) => {
    ran.push('late');
    c.onLoad(() => ran.push('task'), true);
    c.onLoad(() => ran.push('late idle'));
  });
  const broken = () => {
    throw new Error('never reaches the page');
  };
  const c = p.core.start(opts, [early, vitalsLike, broken]);
  assert.ok(c);
  assert.deepEqual(ran, ['early']);
  assert.equal(c._t, undefined, 'no transport before the load');
  assert.equal(c._early.length, 1, 'the record is kept');
  assert.deepEqual(p.listeners.map((l) => l.type).sort(), ['load', 'pagehide', 'visibilitychange']);
  await tick();
  assert.deepEqual(ran, ['early'], 'nothing more before the load event');
  document.readyState = 'complete';
  p.fire('load');
  assert.deepEqual(ran, ['early'], 'not inside the load event');
  await tick();
  assert.deepEqual(ran, ['early', 'late', 'task'], 'late modules and task callbacks in the task after it');
  assert.deepEqual(p.idles.map((i) => i.o), [{timeout: 1000}, {timeout: 1000}]);
  p.idles.forEach((i) => i.cb());
  assert.deepEqual(ran, ['early', 'late', 'task', 'idle', 'late idle']);
  await new Promise((r) => setTimeout(r, 50));
  p.idles.slice(2).forEach((i) => i.cb()); // the flush waits for idle time too
  await tick();
  assert.equal(p.sent.length, 1, 'the record made before the load is sent after it');
  const [log] = p.sent[0].body.resourceLogs[0].scopeLogs[0].logRecords;
  assert.equal(log.eventName, 'exception');
});

test('a page hidden before its load starts the late modules and sends at once', async () => {
  const p = await page('hidden');
  const ran = [];
  const nav = late((c) => {
    ran.push('late');
    c.onHide(() => c.event('browser.page_view', {}, 0));
  });
  p.core.start(opts, [nav]);
  assert.deepEqual(ran, []);
  document.visibilityState = 'hidden';
  p.fire('visibilitychange');
  assert.deepEqual(ran, ['late']);
  assert.equal(p.sent.length, 1);
  assert.ok(p.sent[0].keepalive);
  assert.equal(p.sent[0].body.resourceLogs[0].scopeLogs[0].logRecords[0].eventName, 'browser.page_view');
});

test('idle falls back to a task without requestIdleCallback', async () => {
  delete globalThis.requestIdleCallback;
  let ran = false;
  idle(() => (ran = true));
  assert.equal(ran, false);
  await tick();
  assert.equal(ran, true);
});
