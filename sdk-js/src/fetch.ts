import type {Instrumentation} from './types.js';
import {startRequest} from './lib/requestSpan.js';
import {safe} from './lib/safe.js';

/**
 * `fetch()` calls as OTLP client spans (method, URL template, status, duration until the
 * response headers arrive), with a `traceparent` header to same-origin and allow-listed URLs.
 */
export const fetchRequests: Instrumentation = (client) => {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return;
  globalThis.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    let req;
    try {
      const isReq = typeof Request === 'function' && input instanceof Request;
      const url = isReq ? (input as Request).url : String(input);
      const method = (init && init.method) || (isReq ? (input as Request).method : 'GET');
      req = startRequest(client, method, url);
      if (req && req.traceparent) {
        const h = init && init.headers;
        let headers: HeadersInit;
        if (h ? h.constructor === Object : !isReq) {
          // No headers or a plain object: a copy with the header (no Headers object to build).
          headers = {...(h as Record<string, string>), traceparent: req.traceparent};
        } else {
          headers = new Headers(h || (input as Request).headers);
          headers.set('traceparent', req.traceparent);
        }
        init = {...init, headers};
      }
    } catch {
      req = undefined;
    }
    const p = original.call(this, input, init);
    if (req) {
      const r = req;
      p.then(safe((res: Response) => r.end(res.status)), safe(() => r.end(0)));
    }
    return p;
  } as typeof fetch;
};
