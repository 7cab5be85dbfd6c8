import type {Client, TelemetryRecord} from '../types.js';
import {matchUrl} from './matchUrl.js';
import {randomHex} from './ids.js';
import {urlTemplate} from './urlTemplate.js';

/** A request's client span while it runs: `_tp` the traceparent header to send (if any), `_s` the status. */
export interface RequestRecord extends TelemetryRecord {
  _tp?: string;
  _s?: number;
}

/**
 * Starts a client span for a request if its URL may be recorded; shared by fetch and XHR.
 * `_tp` is the W3C trace context header (https://www.w3.org/TR/trace-context/#traceparent-header)
 * to send, unset when the request goes to neither the page's origin nor `tracePropagationTargets`.
 * Requests are often made while the page loads (in its load handlers), so this is one function
 * (every function called for the first time is compiled first) that parses no URL where the
 * origin is plain and leaves the span's name and attributes to send time (`_build`).
 */
export const startRequest = (client: Client, method: string, url: string): RequestRecord | undefined => {
  if (!client.allowed(url)) return undefined;
  const base = location.href;
  const o = location.origin;
  const r: RequestRecord = {
    type: 'span', name: '', time: performance.timeOrigin + performance.now(), traceId: randomHex(16),
    spanId: randomHex(8), attributes: {},
  };
  r._build = () => {
    const u = new URL(url, base);
    const status = r._s;
    const template = urlTemplate(u.pathname);
    method = method.toUpperCase();
    r.name = `${method} ${template}`;
    r.attributes = {
      ...r.attributes,
      'http.request.method': method,
      'url.full': client.clean(u.href),
      'url.template': template,
      'http.response.status_code': status || undefined,
      'server.address': u.hostname,
      'server.port': u.port ? +u.port : undefined,
      'error.type': status ? (status >= 400 ? String(status) : undefined) : 'network_error',
    };
    delete r._s;
    delete r._tp;
  };
  // Same origin without parsing: a path, or the page's origin followed by a path, query or
  // fragment. Anything else (relative paths, other origins, `//host`, backslashes) is parsed.
  let same = url[0] === '/' ? url[1] !== '/' && url[1] !== '\\' : url.startsWith(o) && '/?#'.includes(url[o.length] || '/');
  if (!same) {
    const u = new URL(url, base);
    same = u.origin === o || matchUrl(u.href, client.options.tracePropagationTargets);
  }
  if (same) r._tp = `00-${r.traceId}-${r.spanId}-0${client.sampled() ? 1 : 0}`;
  return r;
};

/** Ends the span with the response's HTTP status (none or 0: network error or abort). Never throws. */
export const endRequest = (client: Client, r: RequestRecord, res?: {status: number}): void => {
  try {
    const status = res ? res.status : 0;
    r.end = performance.timeOrigin + performance.now();
    r.error = !status || status >= 400;
    r._s = status;
    client.span(r, r.time - performance.timeOrigin);
  } catch {
    // Never throw into the page (this runs in the page's promise chain or XHR events).
  }
};
