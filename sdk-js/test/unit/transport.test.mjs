// Transport: batching, gzip, API key, retries honouring Retry-After, memory cap, unload path.
import {test, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {gunzipSync} from 'node:zlib';
import {Transport, GZIP_MIN_BYTES} from '../../dist/esm/transport.js';

let calls;
let beacons;
let replies;
beforeEach(() => {
  calls = [];
  beacons = [];
  replies = [];
  globalThis.fetch = async (url, init) => {
    const body = init.body instanceof ArrayBuffer ? gunzipSync(Buffer.from(init.body)).toString() : init.body;
    calls.push({url, init, body: JSON.parse(body), at: Date.now()});
    const r = replies.shift() || {status: 200};
    if (r.throw) throw new TypeError('Failed to fetch');
    return new Response('{}', {status: r.status, headers: r.headers || {}});
  };
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: {sendBeacon: (url, blob) => (beacons.push({url, blob}), true)},
  });
});

const make = (o = {}) => new Transport({
  endpoint: 'https://rum.example', apiKey: 'k 1', resource: () => ({'service.name': 'shop'}),
  scope: {name: 'vitalsight', version: '0'}, batchSize: 3, flushInterval: 20, maxQueueSize: 10, ...o,
});
const ev = (i) => ({type: 'event', name: 'browser.page_view', time: 1700000000000 + i, attributes: {i}});
const span = (i) => ({type: 'span', name: 'GET /', time: 1, end: 2, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attributes: {i}});
const until = async (fn, ms = 3000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const records = (c) => c.body.resourceLogs[0].scopeLogs[0].logRecords;

test('a full batch is sent at once (in idle time, not inside push), with the key in header and query', async () => {
  const t = make({flushInterval: 60_000});
  t.push(ev(1)); t.push(ev(2));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls.length, 0);
  t.push(ev(3));
  assert.equal(calls.length, 0, 'not sent inside push()');
  await until(() => calls.length === 1);
  const c = calls[0];
  assert.equal(c.url, 'https://rum.example/v1/logs?api_key=k%201');
  assert.equal(c.init.method, 'POST');
  assert.equal(c.init.headers['Content-Encoding'], undefined, 'a small body is not gzipped');
  assert.equal(typeof c.init.body, 'string');
  assert.equal(c.init.headers['Content-Type'], 'application/json');
  assert.equal(c.init.headers['x-vitalsight-key'], 'k 1');
  assert.equal(records(c).length, 3);
  clearTimeout(t._timer);
});

test('bodies from GZIP_MIN_BYTES on are gzipped', async () => {
  const t = make({flushInterval: 60_000});
  const big = (i) => ({...ev(i), attributes: {i, blob: 'x'.repeat(GZIP_MIN_BYTES / 2)}});
  t.push(big(1)); t.push(big(2)); t.push(big(3));
  await until(() => calls.length === 1);
  assert.equal(calls[0].init.headers['Content-Encoding'], 'gzip');
  assert.ok(calls[0].init.body instanceof ArrayBuffer);
  assert.ok(calls[0].init.body.byteLength < GZIP_MIN_BYTES / 10);
  assert.equal(records(calls[0]).length, 3);
  clearTimeout(t._timer);
});

test('the interval flush runs in idle time where the browser has requestIdleCallback', async () => {
  const idle = [];
  globalThis.requestIdleCallback = (cb, o) => (idle.push(o), setTimeout(cb, 0));
  try {
    const t = make();
    t.push(ev(1));
    await until(() => calls.length === 1);
    assert.deepEqual(idle, [{timeout: 1000}]);
  } finally {
    delete globalThis.requestIdleCallback;
  }
});

test('events and spans go to /v1/logs and /v1/traces on the interval', async () => {
  const t = make();
  t.push(ev(1)); t.push(span(2));
  await until(() => calls.length === 2);
  assert.deepEqual(calls.map((c) => new URL(c.url).pathname).sort(), ['/v1/logs', '/v1/traces']);
  const spans = calls.find((c) => c.body.resourceSpans).body.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(spans[0].kind, 3);
});

test('503 is retried no earlier than Retry-After, with the same records', async () => {
  const t = make();
  replies.push({status: 503, headers: {'Retry-After': '1'}});
  t.push(ev(1));
  await until(() => calls.length === 1);
  t.push(ev(2)); // queued during the backoff, not sent before it ends
  await until(() => calls.length === 3);
  assert.ok(calls[1].at - calls[0].at >= 950, `retried after ${calls[1].at - calls[0].at} ms`);
  const sent = calls.slice(1).flatMap(records).map((r) => r.attributes[0].value.intValue).sort();
  assert.deepEqual(sent, ['1', '2']);
});

test('network errors are retried; other 4xx are dropped', async () => {
  const t = make();
  replies.push({throw: true});
  t.push(ev(1));
  await until(() => calls.length === 2, 4000);
  assert.equal(records(calls[1])[0].attributes[0].value.intValue, '1');
  const u = make();
  replies.push({status: 400});
  u.push(ev(2));
  await until(() => calls.length === 3);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(u._retry.length, 0);
  assert.equal(calls.length, 3);
});

test('memory is capped: records beyond maxQueueSize are dropped and counted', () => {
  const t = make({batchSize: 100, flushInterval: 60_000});
  t._hold = true;
  for (let i = 0; i < 15; i++) t.push(ev(i));
  assert.equal(t._q.length, 10);
  assert.equal(t.dropped, 5);
  clearTimeout(t._timer);
});

test('held (consent pending): nothing is sent until released', async () => {
  const t = make();
  t._hold = true;
  t.push(ev(1));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(calls.length, 0);
  t._hold = false;
  t.flush();
  await until(() => calls.length === 1);
});

test('unloading: keepalive fetch, uncompressed; sendBeacon beyond the keepalive quota', async () => {
  const t = make({batchSize: 1000, flushInterval: 60_000});
  t.push(ev(1));
  t.flush(true);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].init.keepalive, true);
  assert.equal(calls[0].init.headers['Content-Encoding'], undefined);
  const big = {...ev(2), attributes: {blob: 'x'.repeat(70_000)}};
  t.push(big);
  t.flush(true);
  assert.equal(beacons.length, 1);
  assert.equal(beacons[0].url, 'https://rum.example/v1/logs?api_key=k%201');
  assert.equal(beacons[0].blob.type, 'application/json');
  clearTimeout(t._timer);
});

test('unloading sends records waiting for a retry too', async () => {
  const t = make();
  replies.push({status: 503, headers: {'Retry-After': '30'}});
  t.push(ev(1));
  await until(() => t._retry.length === 1);
  t.flush(true);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].init.keepalive, true);
  assert.equal(records(calls[1])[0].attributes[0].value.intValue, '1');
  clearTimeout(t._timer);
});

test('records are completed by prepare() at send time; falsy drops them', async () => {
  let resourceCalls = 0;
  const t = make({
    resource: () => (resourceCalls++, {'service.name': 'shop'}),
    prepare: (r) => (r.attributes.i % 2 ? {...r, attributes: {...r.attributes, extra: 'yes'}} : null),
  });
  for (let i = 0; i < 3; i++) t.push(ev(i));
  await until(() => calls.length === 1);
  const recs = records(calls[0]);
  assert.deepEqual(recs.map((r) => r.attributes.map((a) => a.key)), [['i', 'extra']]);
  assert.equal(resourceCalls, 1);
  t.push(ev(1));
  t.push(ev(3));
  await until(() => calls.length === 2);
  assert.equal(resourceCalls, 1, 'resource attributes are computed once');
  t.push(ev(2));
  t.flush();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls.length, 2, 'nothing left after prepare: no request');
});

test('flush never throws into the page, even for an unserializable record', () => {
  const circular = {};
  circular.self = circular;
  const t = make({flushInterval: 60_000, prepare: (r) => ({...r, attributes: {bad: circular}})});
  t.push(ev(1));
  assert.doesNotThrow(() => t.flush());
  assert.doesNotThrow(() => t.flush(true));
  clearTimeout(t._timer);
});

test('sends with the fetch the page had when it was created, unbound, not a later wrapper', async () => {
  const recorded = globalThis.fetch;
  // A native fetch throws "Illegal invocation" when called with another `this`.
  globalThis.fetch = function (...args) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
    return recorded(...args);
  };
  const t = make({flushInterval: 60_000});
  let wrapped = 0;
  const original = globalThis.fetch;
  globalThis.fetch = (...args) => (wrapped++, original(...args)); // as the fetch instrumentation does
  t.push(ev(1)); t.push(ev(2)); t.push(ev(3));
  await until(() => calls.length === 1);
  t.push(ev(4));
  t.flush(true);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].init.keepalive, true);
  assert.equal(wrapped, 0);
  assert.equal(t.dropped, 0);
  assert.equal(t._retry.length, 0);
});
