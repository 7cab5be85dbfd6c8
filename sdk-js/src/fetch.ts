import type {Instrumentation} from './types.js';
import {endRequest, startRequest, type RequestRecord} from './lib/requestSpan.js';

/**
 * `fetch()` calls as OTLP client spans (method, URL template, status, duration until the
 * response headers arrive), with a `traceparent` header to same-origin and allow-listed URLs.
 */
export const fetchRequests: Instrumentation = (client) => {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return;
  globalThis.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    let r: RequestRecord | undefined;
    try {
      const isReq = typeof input === 'object' && typeof Request === 'function' && input instanceof Request;
      const url = isReq ? (input as Request).url : String(input);
      const method = (init && init.method) || (isReq ? (input as Request).method : 'GET');
      r = startRequest(client, method, url);
      const tp = r && r._tp;
      if (tp) {
        const h = init && init.headers;
        let headers: HeadersInit;
        if (h ? h.constructor === Object : !isReq) {
          // No headers or a plain object: a copy with the header (no Headers object to build).
          headers = {...(h as Record<string, string>), traceparent: tp};
        } else {
          headers = new Headers(h || (input as Request).headers);
          headers.set('traceparent', tp);
        }
        init = {...init, headers};
      }
    } catch {
      r = undefined;
    }
    const p = original.call(this, input, init);
    if (r) {
      const x = r;
      p.then((res) => endRequest(client, x, res), () => endRequest(client, x));
    }
    return p;
  } as typeof fetch;
};
