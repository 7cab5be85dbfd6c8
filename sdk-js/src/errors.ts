import type {Client, Instrumentation} from './types.js';
import {safe} from './lib/safe.js';

/** Errors recorded per page view at most, so an error loop cannot flood the queue. */
export const MAX_ERRORS_PER_PAGE = 50;

let _capture: ((error: unknown, source: string) => void) | undefined;

/**
 * Uncaught errors (`error`) and unhandled promise rejections (`unhandledrejection`) as
 * `exception` events with `exception.type`, `.message`, `.stacktrace` and
 * `vitalsight.error.source`. Errors are kept even in unsampled sessions unless `sampleErrors`.
 */
export const errors: Instrumentation = (client: Client) => {
  const counts: Record<string, number> = {};
  _capture = (error, source) => {
    const page = client.pageAt(performance.now()).id;
    if ((counts[page] = (counts[page] || 0) + 1) > MAX_ERRORS_PER_PAGE) return;
    const e = error as Partial<Error> | null | undefined;
    const isObj = !!e && typeof e === 'object';
    client.event('exception', {
      'exception.type': (isObj && e.name) || (source === 'unhandledrejection' ? 'UnhandledRejection' : 'Error'),
      'exception.message': String((isObj && e.message) || (isObj ? JSON.stringify(e) : e)).slice(0, 1000),
      'exception.stacktrace': isObj && typeof e.stack === 'string' ? e.stack.slice(0, 8000) : undefined,
      'vitalsight.error.source': source,
    }, undefined, true);
  };
  addEventListener('error', safe((ev: Event) => {
    // Resource load failures also fire `error` (not as ErrorEvent); those are not exceptions.
    if (ev instanceof ErrorEvent) _capture!(ev.error || {name: 'Error', message: ev.message}, 'error');
  }));
  addEventListener('unhandledrejection', safe((ev: PromiseRejectionEvent) => _capture!(ev.reason, 'unhandledrejection')));
};

/** Reports a caught error yourself (source `console`, as for errors an app logs). */
export const captureError = (error: unknown): void => {
  try {
    if (_capture) _capture(error, 'console');
  } catch {
    // Never throw into the page.
  }
};
