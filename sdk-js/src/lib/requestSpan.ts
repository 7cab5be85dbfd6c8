import type {Client, TelemetryRecord} from '../types.js';
import {matchUrl} from './matchUrl.js';
import {spanId, traceId} from './ids.js';
import {urlTemplate} from './urlTemplate.js';

/** A request being timed by the fetch or XHR instrumentation. */
export interface PendingRequest {
  /** The traceparent header value to send, or '' when the URL is not a propagation target. */
  traceparent: string;
  /** Ends the span with an HTTP status (0: network error or abort). */
  end(status: number): void;
}

/**
 * Starts a client span for a request if its URL may be recorded; shared by fetch and XHR.
 * W3C trace context (https://www.w3.org/TR/trace-context/#traceparent-header) is propagated
 * to same-origin URLs and to `tracePropagationTargets`.
 */
export const startRequest = (client: Client, method: string, url: string): PendingRequest | undefined => {
  if (!client.allowed(url)) return undefined;
  const u = new URL(url, location.href);
  const at = performance.now();
  const record: TelemetryRecord = {type: 'span', name: '', time: performance.timeOrigin + at, traceId: traceId(), spanId: spanId(), attributes: {}};
  const propagate = u.origin === location.origin || matchUrl(u.href, client.options.tracePropagationTargets);
  const sampled = client.sampled();
  return {
    traceparent: propagate ? `00-${record.traceId}-${record.spanId}-0${sampled ? 1 : 0}` : '',
    end(status) {
      record.end = performance.timeOrigin + performance.now();
      record.error = !status || status >= 400;
      // Name and attributes are built when the batch is sent, in idle time, not in the page's
      // response handling.
      record._build = () => {
        const template = urlTemplate(u.pathname);
        method = method.toUpperCase();
        record.name = `${method} ${template}`;
        record.attributes = {
          ...record.attributes,
          'http.request.method': method,
          'url.full': client.clean(u.href),
          'url.template': template,
          'http.response.status_code': status || undefined,
          'server.address': u.hostname,
          'server.port': u.port ? +u.port : undefined,
          'error.type': status ? (status >= 400 ? String(status) : undefined) : 'network_error',
        };
      };
      client.span(record, at);
    },
  };
};
