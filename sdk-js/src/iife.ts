// Entry of the script-tag build (dist/vitalsight.iife.js): the global `vitalsight`, a plain
// object with everything index.ts exports (test/unit/iife.test.mjs checks they are the same).
// Not esbuild's `globalName`: that builds the object from a getter per export, run while the
// page loads.
import {
  init, start, setConsent, setOptOut, setUser, setRoute, flush, VERSION, OPT_OUT_KEY, vitals, THRESHOLDS,
  errors, captureError, MAX_ERRORS_PER_PAGE, fetchRequests, xhrRequests, resources, longTasks,
  LONG_TASK_THRESHOLD, navigation, routes, urlTemplate,
} from './index.js';

(globalThis as {vitalsight?: object}).vitalsight = {
  init, start, setConsent, setOptOut, setUser, setRoute, flush, VERSION, OPT_OUT_KEY, vitals, THRESHOLDS,
  errors, captureError, MAX_ERRORS_PER_PAGE, fetchRequests, xhrRequests, resources, longTasks,
  LONG_TASK_THRESHOLD, navigation, routes, urlTemplate,
};
