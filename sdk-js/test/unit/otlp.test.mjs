// The OTLP/HTTP JSON encoding: camelCase, hex ids, int64 as strings.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {encodeLogs, encodeSpans, keyValues, nanos} from '../../dist/esm/lib/otlp.js';

const scope = {name: 'vitalsight', version: '0.1.0'};

test('attribute values: strings, ints as strings, doubles, bools; empties dropped', () => {
  assert.deepEqual(keyValues({s: 'x', i: 3, d: 1.5, b: false, u: undefined, e: '', n: NaN, inf: Infinity}), [
    {key: 's', value: {stringValue: 'x'}},
    {key: 'i', value: {intValue: '3'}},
    {key: 'd', value: {doubleValue: 1.5}},
    {key: 'b', value: {boolValue: false}},
  ]);
});

test('times are nanosecond strings with microsecond precision', () => {
  assert.equal(nanos(1700000000123.456), '1700000000123456000');
  assert.equal(nanos(0), '0000');
  assert.equal(BigInt(nanos(1700000000123.4567)), 1700000000123457000n);
});

test('log records are events with eventName and severity', () => {
  const body = JSON.parse(encodeLogs({'service.name': 'shop'}, scope, [
    {type: 'event', name: 'browser.web_vital', time: 1700000000000, attributes: {'browser.web_vital.name': 'LCP', 'browser.web_vital.value': 1234.5}},
    {type: 'event', name: 'exception', time: 1700000000001, attributes: {'exception.type': 'TypeError'}, error: true},
  ]));
  const rl = body.resourceLogs[0];
  assert.deepEqual(rl.resource.attributes, [{key: 'service.name', value: {stringValue: 'shop'}}]);
  assert.deepEqual(rl.scopeLogs[0].scope, scope);
  const [vital, error] = rl.scopeLogs[0].logRecords;
  assert.equal(vital.eventName, 'browser.web_vital');
  assert.equal(vital.timeUnixNano, '1700000000000000000');
  assert.equal(vital.severityNumber, 9);
  assert.deepEqual(vital.attributes[1], {key: 'browser.web_vital.value', value: {doubleValue: 1234.5}});
  assert.equal(error.severityNumber, 17);
  assert.equal(error.severityText, 'ERROR');
});

test('spans are CLIENT spans with hex ids, string times and error status', () => {
  const body = JSON.parse(encodeSpans({}, scope, [
    {type: 'span', name: 'GET /api/:id', time: 1000, end: 1250.5, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16),
      attributes: {'http.request.method': 'GET', 'http.response.status_code': 500}, error: true},
    {type: 'span', name: 'GET /ok', time: 1000, end: 1001, traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), attributes: {}},
  ]));
  const [bad, ok] = body.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(bad.kind, 3);
  assert.equal(bad.traceId, 'a'.repeat(32));
  assert.equal(bad.startTimeUnixNano, '1000000000');
  assert.equal(bad.endTimeUnixNano, '1250500000');
  assert.deepEqual(bad.status, {code: 2});
  assert.deepEqual(bad.attributes[1], {key: 'http.response.status_code', value: {intValue: '500'}});
  assert.deepEqual(ok.status, {});
});
