import type {Instrumentation} from './types.js';
import {startRequest} from './lib/requestSpan.js';
import {safe} from './lib/safe.js';

/**
 * XMLHttpRequest calls as OTLP client spans, like `fetchRequests`. Patches the prototype's
 * `open` (to learn method and URL) and `send` (to start timing and propagate `traceparent`).
 */
export const xhrRequests: Instrumentation = (client) => {
  if (typeof XMLHttpRequest !== 'function') return;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  const info = new WeakMap<XMLHttpRequest, [string, string]>();
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
    info.set(this, [method, String(url)]);
    // eslint-disable-next-line prefer-rest-params
    return open.apply(this, arguments as unknown as Parameters<typeof open>);
  } as typeof open;
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const xhr = this;
    safe(() => {
      const i = info.get(xhr);
      const req = i && startRequest(client, i[0], i[1]);
      if (!req) return;
      if (req.traceparent) xhr.setRequestHeader('traceparent', req.traceparent);
      xhr.addEventListener('loadend', safe(() => req.end(xhr.status)));
    })();
    return send.call(this, body);
  };
};
