// Post-load scheduling: whenLoaded waits for the load event, then runs in idle time
// (requestIdleCallback with a timeout) or, with `task`, in the next task; idle() falls back to
// a task where requestIdleCallback is missing.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {whenLoaded} from '../../dist/esm/lib/whenLoaded.js';
import {idle} from '../../dist/esm/lib/idle.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('whenLoaded: nothing before load; after it, idle callbacks (with timeout) and a task for `task`', async () => {
  const listeners = [];
  const idles = [];
  globalThis.document = {readyState: 'loading'};
  globalThis.addEventListener = (type, cb, o) => listeners.push({type, cb, o});
  globalThis.requestIdleCallback = (cb, o) => idles.push({cb, o});
  try {
    const ran = [];
    whenLoaded(() => ran.push('observers'));
    whenLoaded(() => ran.push('vitals'), true);
    whenLoaded(() => {
      throw new Error('never reaches the page');
    });
    await tick();
    assert.deepEqual(ran, []);
    assert.deepEqual(listeners.map((l) => [l.type, l.o.once]), [['load', true], ['load', true], ['load', true]]);
    document.readyState = 'complete';
    listeners.forEach((l) => l.cb());
    assert.deepEqual(ran, [], 'not inside the load event');
    await tick();
    assert.deepEqual(ran, ['vitals'], 'the task one runs without waiting for idle time');
    assert.equal(idles.length, 2);
    assert.deepEqual(idles.map((i) => i.o), [{timeout: 1000}, {timeout: 1000}]);
    idles.forEach((i) => assert.doesNotThrow(() => i.cb()));
    assert.deepEqual(ran, ['vitals', 'observers']);
    whenLoaded(() => ran.push('late'));
    assert.equal(idles.length, 3, 'after load: straight to idle time');
    idles[2].cb();
    assert.deepEqual(ran, ['vitals', 'observers', 'late']);
  } finally {
    delete globalThis.document;
    delete globalThis.addEventListener;
    delete globalThis.requestIdleCallback;
  }
});

test('idle falls back to a task without requestIdleCallback', async () => {
  let ran = false;
  idle(() => (ran = true));
  assert.equal(ran, false);
  await tick();
  assert.equal(ran, true);
});
