import type {Instrumentation} from '../types.js';

/**
 * Marks a signal module to be started after the load event (see `Instrumentation`). Use as
 * `/* @__PURE__ *\/ late(...)` so that bundlers drop unused signals.
 */
export const late = (i: Instrumentation): Instrumentation => {
  i.late = true;
  return i;
};
