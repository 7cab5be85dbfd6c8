import type {Client, Instrumentation, Options} from './types.js';
import {start} from './core.js';
import {errors} from './errors.js';
import {fetchRequests} from './fetch.js';
import {longTasks} from './longtasks.js';
import {navigation} from './navigation.js';
import {resources} from './resources.js';
import {routes} from './routes.js';
import {vitals} from './vitals.js';
import {xhrRequests} from './xhr.js';

/** Signal modules `init()` starts; each can be turned off with `signals: {name: false}`. */
export interface Signals {
  vitals?: boolean;
  errors?: boolean;
  fetch?: boolean;
  xhr?: boolean;
  resources?: boolean;
  longTasks?: boolean;
  navigation?: boolean;
  routes?: boolean;
}

export interface InitOptions extends Options {
  /** All on by default. */
  signals?: Signals;
}

/**
 * Starts the SDK with every signal (minus those turned off in `signals`). One call, once per
 * page. To bundle only some signals, call `start(options, [vitals, errors])` instead.
 */
export const init = (options: InitOptions): Client | undefined => {
  const s = (options && options.signals) || {};
  const all: [keyof Signals, Instrumentation][] = [
    ['routes', routes],
    ['navigation', navigation],
    ['vitals', vitals],
    ['errors', errors],
    ['fetch', fetchRequests],
    ['xhr', xhrRequests],
    ['resources', resources],
    ['longTasks', longTasks],
  ];
  // A loop, not filter/map: callbacks called for the first time are compiled first, and this
  // runs while the page loads.
  const list: Instrumentation[] = [];
  for (const [k, i] of all) if (s[k] !== false) list.push(i);
  return start(options, list);
};
