export {init} from './init.js';
export type {InitOptions, Signals} from './init.js';
export {start, setConsent, setOptOut, setUser, setRoute, flush, VERSION, OPT_OUT_KEY} from './core.js';
export {vitals, THRESHOLDS} from './vitals.js';
export {errors, captureError, MAX_ERRORS_PER_PAGE} from './errors.js';
export {fetchRequests} from './fetch.js';
export {xhrRequests} from './xhr.js';
export {resources} from './resources.js';
export {longTasks, LONG_TASK_THRESHOLD} from './longtasks.js';
export {navigation} from './navigation.js';
export {routes} from './routes.js';
export {urlTemplate} from './lib/urlTemplate.js';
export type {
  AttributeValue,
  Attributes,
  Client,
  Instrumentation,
  Options,
  PageView,
  TelemetryRecord,
  UrlPattern,
} from './types.js';
