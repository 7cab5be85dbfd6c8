// The fetch instrumentation: traceparent propagation keeps the page's own headers, whatever
// form they come in (none, a plain object, a Headers object, an array, a Request's headers).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fetchRequests} from '../../dist/esm/fetch.js';

globalThis.location = new URL('https://shop.example/products');
const seen = [];
globalThis.fetch = async (input, init) => {
  seen.push({input, init});
  return new Response('{}', {status: 200});
};
const spans = [];
fetchRequests({
  options: {},
  allowed: () => true,
  sampled: () => true,
  clean: (u) => u,
  span: (r) => spans.push(r),
});
const header = (init, name) => new Headers(init && init.headers).get(name);
const TP = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

test('no headers: a plain object with traceparent', async () => {
  await fetch('/api/a');
  const {init} = seen.at(-1);
  assert.equal(init.headers.constructor, Object);
  assert.match(init.headers.traceparent, TP);
});

test('plain-object headers are kept, traceparent added; the caller\'s object is not changed', async () => {
  const headers = {'x-a': '1', 'Content-Type': 'text/plain'};
  await fetch('/api/b', {method: 'POST', headers, body: 'x'});
  const {init} = seen.at(-1);
  assert.equal(header(init, 'x-a'), '1');
  assert.equal(header(init, 'content-type'), 'text/plain');
  assert.match(header(init, 'traceparent'), TP);
  assert.equal(init.method, 'POST');
  assert.deepEqual(headers, {'x-a': '1', 'Content-Type': 'text/plain'});
});

test('Headers objects and arrays go through Headers', async () => {
  await fetch('/api/c', {headers: new Headers({'x-b': '2'})});
  assert.equal(header(seen.at(-1).init, 'x-b'), '2');
  assert.match(header(seen.at(-1).init, 'traceparent'), TP);
  await fetch('/api/d', {headers: [['x-c', '3']]});
  assert.equal(header(seen.at(-1).init, 'x-c'), '3');
  assert.match(header(seen.at(-1).init, 'traceparent'), TP);
});

test('a Request keeps its own headers', async () => {
  await fetch(new Request('https://shop.example/api/e', {headers: {'x-d': '4'}}));
  assert.equal(header(seen.at(-1).init, 'x-d'), '4');
  assert.match(header(seen.at(-1).init, 'traceparent'), TP);
});

test('cross-origin requests get no traceparent; spans are recorded', async () => {
  await fetch('https://other.example/x', {headers: {'x-e': '5'}});
  assert.equal(seen.at(-1).init.headers.traceparent, undefined);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(spans.length, 6);
  // Name and attributes wait for the send (core calls _build then).
  assert.equal(spans[0].name, '');
  spans[0]._build();
  assert.equal(spans[0].name, 'GET /api/a');
  assert.equal(spans[0].attributes['http.request.method'], 'GET');
  assert.equal(spans[0].attributes['url.template'], '/api/a');
  assert.equal(spans[0].attributes['http.response.status_code'], 200);
  spans[5]._build();
  assert.equal(spans[5].attributes['server.address'], 'other.example');
});
