// The script-tag build's global `vitalsight` has exactly what the package exports.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import vm from 'node:vm';
import * as api from '../../dist/esm/index.js';

test('dist/vitalsight.iife.js defines the global vitalsight with every export of index.ts', () => {
  const sandbox = {};
  sandbox.globalThis = sandbox;
  vm.runInNewContext(readFileSync(new URL('../../dist/vitalsight.iife.js', import.meta.url), 'utf8'), sandbox);
  const g = sandbox.vitalsight;
  assert.ok(g, 'global set');
  assert.deepEqual(Object.keys(g).sort(), Object.keys(api).sort());
  for (const k of Object.keys(api)) assert.equal(typeof g[k], typeof api[k], k);
  assert.equal(g.VERSION, api.VERSION);
});
