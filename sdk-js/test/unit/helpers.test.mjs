// Unit tests of the small helpers in src/lib (run against the esbuild output in dist/esm).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {urlTemplate, templateSegment} from '../../dist/esm/lib/urlTemplate.js';
import {matchUrl, isAllowed} from '../../dist/esm/lib/matchUrl.js';
import {cleanUrl} from '../../dist/esm/lib/cleanUrl.js';
import {parseRetryAfter, retryDelay, isRetryable, MAX_RETRY_DELAY} from '../../dist/esm/lib/retryDelay.js';
import {touchSession, SESSION_TIMEOUT, SESSION_MAX_AGE} from '../../dist/esm/lib/session.js';
import {PageViews} from '../../dist/esm/lib/pageViews.js';
import {parseUserAgent, deviceType} from '../../dist/esm/lib/env.js';
import {randomHex, traceId, spanId} from '../../dist/esm/lib/ids.js';
import {sha256} from '../../dist/esm/lib/sha256.js';
import {navigationTiming} from '../../dist/esm/lib/navigationTiming.js';
import {safe} from '../../dist/esm/lib/safe.js';
import {runOnce} from '../../dist/esm/lib/runOnce.js';

globalThis.location = new URL('https://shop.example/products/42?ref=mail#reviews');

test('urlTemplate collapses ids, uuids and hashes', () => {
  assert.equal(urlTemplate('/api/items/12345'), '/api/items/:id');
  assert.equal(urlTemplate('/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/x'), '/u/:uuid/x');
  assert.equal(urlTemplate('/static/app.9f86d081884c7d65.js'), '/static/app.9f86d081884c7d65.js');
  assert.equal(urlTemplate('/blob/9f86d081884c7d659a2feaa0c55ad015'), '/blob/:hash');
  assert.equal(urlTemplate('/t/eyJhbGciOiJIUzI1NiJ9abc123'), '/t/:hash');
  assert.equal(urlTemplate('/api/v2/users/7/orders?id=9#x'), '/api/v2/users/:id/orders');
  assert.equal(urlTemplate('/'), '/');
  assert.equal(urlTemplate(''), '/');
  assert.equal(templateSegment('products'), 'products');
  assert.equal(templateSegment('deadbeefdeadbeef'), 'deadbeefdeadbeef', 'no digit: a word, not a hash');
});

test('matchUrl: substring strings and RegExps (global flags do not leak state)', () => {
  const g = /secret/g;
  assert.ok(matchUrl('https://a/secret/1', [g]));
  assert.ok(matchUrl('https://a/secret/1', [g]), 'lastIndex reset');
  assert.ok(matchUrl('https://a/api/x', ['/api/']));
  assert.ok(!matchUrl('https://a/x', ['/api/']));
  assert.ok(!matchUrl('https://a/x', undefined));
  assert.ok(isAllowed('https://a/x', undefined, undefined));
  assert.ok(isAllowed('https://a/x', [], []));
  assert.ok(!isAllowed('https://a/x', ['/api'], []));
  assert.ok(isAllowed('https://a/api/x', ['/api'], []));
  assert.ok(!isAllowed('https://a/api/secret', ['/api'], ['secret']));
});

test('cleanUrl removes query, fragment and credentials unless asked', () => {
  assert.equal(cleanUrl('/a/b?token=1#f'), 'https://shop.example/a/b');
  assert.equal(cleanUrl('https://u:p@x.example/a?q=1#h'), 'https://x.example/a');
  assert.equal(cleanUrl('/a?q=1#h', true), 'https://shop.example/a?q=1');
  assert.equal(cleanUrl('/a?q=1#h', true, true), 'https://shop.example/a?q=1#h');
  assert.equal(cleanUrl('http://[bad'), '');
});

test('Retry-After: seconds and HTTP dates; backoff grows, honours the server, is capped', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(null), 0);
  assert.equal(parseRetryAfter('soon'), 0);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
  assert.equal(retryDelay(1, 0, 0.5), 1000);
  assert.equal(retryDelay(2, 0, 0.5), 2000);
  assert.equal(retryDelay(3, 0, 0), 3200, 'jitter -20%');
  assert.equal(retryDelay(1, 5000, 0.5), 5000, 'Retry-After wins when longer');
  assert.equal(retryDelay(30, 0, 1), MAX_RETRY_DELAY);
  assert.equal(retryDelay(1, 10 * MAX_RETRY_DELAY, 0.5), MAX_RETRY_DELAY);
  for (const s of [0, 408, 429, 500, 503]) assert.ok(isRetryable(s), String(s));
  for (const s of [400, 401, 403, 413, 415]) assert.ok(!isRetryable(s), String(s));
});

test('sessions rotate after inactivity, max age or a new sample rate', () => {
  const t0 = 1_700_000_000_000;
  const s = touchSession(undefined, null, t0, 1);
  assert.match(s.id, /^[0-9a-f]{32}$/);
  assert.equal(s.sampled, true);
  assert.equal(touchSession(s, null, t0 + 1000, 1).id, s.id);
  const stored = JSON.stringify(s);
  assert.equal(touchSession(undefined, stored, t0 + 2000, 1).id, s.id, 'resumed from storage');
  assert.notEqual(touchSession(undefined, stored, t0 + 2000 + SESSION_TIMEOUT + 1, 1).id, s.id);
  let a = touchSession(undefined, null, t0, 1);
  for (let t = t0; t < t0 + SESSION_MAX_AGE; t += SESSION_TIMEOUT / 2) a = touchSession(a, null, t, 1);
  assert.notEqual(touchSession(a, null, t0 + SESSION_MAX_AGE + 1, 1).id, s.id);
  assert.notEqual(touchSession(a, null, t0 + SESSION_MAX_AGE + 1, 1).start, t0, 'max age');
  const half = touchSession(s, null, t0 + 3000, 0.5, undefined, undefined, () => 0.7);
  assert.notEqual(half.id, s.id, 'new rate, new draw');
  assert.equal(half.sampled, false);
  assert.equal(touchSession(undefined, 'not json', t0, 1).start, t0);
  assert.equal(touchSession(undefined, null, t0, 0).sampled, false, 'rate 0 samples nothing');
});

test('PageViews.at finds the page view current at a time', () => {
  const p = new PageViews();
  p.add({id: 'a', start: 0});
  p.add({id: 'b', start: 100});
  p.add({id: 'c', start: 250});
  assert.equal(p.at(0).id, 'a');
  assert.equal(p.at(99).id, 'a');
  assert.equal(p.at(100).id, 'b');
  assert.equal(p.at(1e9).id, 'c');
  assert.equal(p.current().id, 'c');
  for (let i = 0; i < 100; i++) p.add({id: `x${i}`, start: 300 + i});
  assert.equal(p._list.length, 50, 'bounded');
  assert.equal(p.at(0).id, 'x50', 'oldest kept answers for earlier times');
});

test('user agent parsing and device type', () => {
  const ua = {
    chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.56',
    safariIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    firefox: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0',
    androidTablet: 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    androidPhone: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  };
  assert.deepEqual(parseUserAgent(ua.chrome), {'user_agent.name': 'Chrome', 'user_agent.version': '126.0.0.0', 'user_agent.os.name': 'Windows'});
  assert.equal(parseUserAgent(ua.edge)['user_agent.name'], 'Edge');
  assert.deepEqual(parseUserAgent(ua.safariIos), {'user_agent.name': 'Safari', 'user_agent.version': '17.5', 'user_agent.os.name': 'iOS'});
  assert.equal(parseUserAgent(ua.firefox)['user_agent.os.name'], 'macOS');
  assert.equal(parseUserAgent(ua.firefox)['user_agent.version'], '127.0');
  assert.equal(deviceType(ua.chrome), 'desktop');
  assert.equal(deviceType(ua.safariIos), 'mobile');
  assert.equal(deviceType(ua.androidPhone), 'mobile');
  assert.equal(deviceType(ua.androidTablet), 'tablet');
  assert.equal(deviceType(ua.chrome, true), 'mobile', 'UA Client Hints say mobile');
});

test('ids are hex of the OTLP sizes and not all zero', () => {
  assert.match(traceId(), /^[0-9a-f]{32}$/);
  assert.match(spanId(), /^[0-9a-f]{16}$/);
  assert.notEqual(traceId(), traceId());
  assert.match(randomHex(3), /^[0-9a-f]{6}$/);
});

test('sha256 hashes user ids as hex', async () => {
  assert.equal(await sha256('alice@example.com'),
    'ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
});

test('navigation timing phases in ms', () => {
  const e = {
    type: 'navigate', transferSize: 1400, activationStart: 0, fetchStart: 2,
    domainLookupStart: 5, domainLookupEnd: 15, connectStart: 15, secureConnectionStart: 20, connectEnd: 40,
    requestStart: 41, responseStart: 100, responseEnd: 120, domComplete: 400, loadEventEnd: 410,
  };
  const t = navigationTiming(e);
  const n = (k) => t[`browser.navigation_timing.${k}`];
  assert.deepEqual(
    ['dns', 'connect', 'tls', 'request', 'response', 'dom_processing', 'load', 'ttfb'].map(n),
    [10, 25, 20, 59, 20, 280, 408, 100]);
  const early = navigationTiming({...e, secureConnectionStart: 0, domComplete: 0, loadEventEnd: 0});
  assert.equal(early['browser.navigation_timing.tls'], 0, 'plain http');
  assert.equal(early['browser.navigation_timing.load'], undefined, 'not reached yet');
  assert.equal(early['browser.navigation_timing.dom_processing'], undefined);
});

test('safe swallows errors; runOnce runs once', () => {
  assert.equal(safe(() => { throw new Error('x'); })(), undefined);
  assert.equal(safe((a) => a + 1)(1), 2);
  let n = 0;
  const f = runOnce(() => n++);
  f(); f();
  assert.equal(n, 1);
});

test('cleanUrl fast path leaves clean absolute URLs alone and parses the rest', () => {
  assert.equal(cleanUrl('https://cdn.example:8443/a/b.js'), 'https://cdn.example:8443/a/b.js');
  assert.equal(cleanUrl('https://cdn.example'), 'https://cdn.example/');
  assert.equal(cleanUrl('https://cdn.example/a b'), 'https://cdn.example/a%20b');
  assert.equal(cleanUrl('https://cdn.example/a\\b'), 'https://cdn.example/a/b');
  assert.equal(cleanUrl('HTTPS://CDN.example/x'), 'https://cdn.example/x');
  assert.equal(cleanUrl('https://CDN.example/x'), 'https://cdn.example/x');
});
