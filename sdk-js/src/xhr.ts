import type {Instrumentation} from './types.js';
import {endRequest, startRequest, type RequestRecord} from './lib/requestSpan.js';

/**
 * XMLHttpRequest calls as OTLP client spans, like `fetchRequests`. Patches the prototype's
 * `open` (to learn method and URL) and `send` (to start timing and propagate `traceparent`).
 */
export const xhrRequests: Instrumentation = (client) => {
  if (typeof XMLHttpRequest !== 'function') return;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  /** Method, URL (from `open`) and the span (from `send` to `loadend`) of each request. */
  const info = new WeakMap<XMLHttpRequest, [string, string, RequestRecord?]>();
  // One listener function for every request (added once per object, however often it is reused).
  function ended(this: XMLHttpRequest) {
    const i = info.get(this);
    if (i && i[2]) endRequest(client, i[2], this);
  }
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
    info.set(this, [method, String(url)]);
    // eslint-disable-next-line prefer-rest-params
    return open.apply(this, arguments as unknown as Parameters<typeof open>);
  } as typeof open;
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    try {
      const i = info.get(this);
      const r = i && !i[2] && (i[2] = startRequest(client, i[0], i[1]));
      if (r) {
        if (r._tp) this.setRequestHeader('traceparent', r._tp);
        this.addEventListener('loadend', ended);
      }
    } catch {
      // Never throw into the page.
    }
    return send.call(this, body);
  };
};
