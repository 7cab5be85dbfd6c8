// A bundler that imports only vitals must not pull in the request instrumentation (or other
// signals): bundle entries with esbuild as an app would and look for their code.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {bundle} from '../../scripts/size.mjs';

// Strings that only the fetch/XHR instrumentation (and its span helper) contain.
const REQUEST_CODE = ['traceparent', 'http.request.method', 'XMLHttpRequest', 'url.template'];
const OTHER_SIGNALS = ['browser.long_task', 'browser.resource.timing', 'pushState', 'unhandledrejection'];

test('a vitals-only bundle has no fetch/XHR instrumentation or other signals', async () => {
  const code = await bundle(`import {start, vitals} from './src/index.ts'; start(window.o, [vitals]);`);
  assert.match(code, /browser\.web_vital/, 'vitals are in');
  for (const s of [...REQUEST_CODE, ...OTHER_SIGNALS]) assert.ok(!code.includes(s), `${s} leaked in`);
});

test('the published ESM (dist/esm, sideEffects: false) tree-shakes the same way', async () => {
  const code = await bundle(`import {start, vitals} from './dist/esm/index.js'; start(window.o, [vitals]);`);
  assert.match(code, /browser\.web_vital/);
  for (const s of [...REQUEST_CODE, ...OTHER_SIGNALS]) assert.ok(!code.includes(s), `${s} leaked in`);
});

test('control: the full bundle does contain them (so the check above can fail)', async () => {
  const code = await bundle(`import {init} from './src/index.ts'; init(window.o);`);
  for (const s of [...REQUEST_CODE, ...OTHER_SIGNALS]) assert.ok(code.includes(s), `${s} missing`);
});

test('fetch instrumentation alone does not pull in web-vitals', async () => {
  const code = await bundle(`import {start, fetchRequests} from './src/index.ts'; start(window.o, [fetchRequests]);`);
  assert.ok(code.includes('traceparent'));
  assert.ok(!code.includes('largestShiftTarget') && !code.includes('browser.web_vital'));
});
