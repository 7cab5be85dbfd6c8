import type {Attributes, TelemetryRecord} from './types.js';
import {encodeLogs, encodeSpans} from './lib/otlp.js';
import {gzip} from './lib/gzip.js';
import {isRetryable, parseRetryAfter, retryDelay} from './lib/retryDelay.js';
import {safe} from './lib/safe.js';
import {idle} from './lib/idle.js';

/** Payloads waiting for a retry at most; the oldest is dropped beyond that. */
const MAX_RETRY_PAYLOADS = 20;
/** Chromium refuses keepalive bodies beyond 64 KiB in flight per page; stay under it. */
const KEEPALIVE_LIMIT = 60_000;
/**
 * Bodies smaller than this are sent uncompressed: CompressionStream costs about 1.5 ms of main
 * thread on its first use in a page (streams, Blob, Response), more than the upload of a few KB
 * saves the user. Batches of many records (resource timings of a page load: ~1 KB each) are
 * gzipped (about 10:1).
 */
export const GZIP_MIN_BYTES = 32_768;

export interface TransportOptions {
  /** Without a trailing slash. */
  endpoint: string;
  apiKey?: string;
  /** Resource attributes, computed on the first send (off the page-load path). */
  resource: () => Attributes;
  /**
   * Completes a queued record when it is about to be sent (context, sampling, beforeSend);
   * a falsy result drops it. Deferred to send time so that recording stays cheap.
   */
  prepare?: (r: TelemetryRecord) => TelemetryRecord | null | false | undefined;
  scope: {name: string; version: string};
  batchSize: number;
  flushInterval: number;
  maxQueueSize: number;
}

interface Payload {
  path: string;
  body: string;
  attempt: number;
}

/**
 * Buffers records and sends them as OTLP/HTTP JSON. Flushes when `batchSize` records are
 * queued, every `flushInterval` ms (in idle time), and synchronously (keepalive fetch, else sendBeacon) when
 * the page is hidden. Regular flushes are gzipped (from GZIP_MIN_BYTES) and retried with exponential backoff,
 * honouring `Retry-After` on 429/503; memory stays bounded by `maxQueueSize`.
 */
export class Transport {
  _q: TelemetryRecord[] = [];
  _retry: Payload[] = [];
  _timer: ReturnType<typeof setTimeout> | undefined;
  _until = 0;
  _inflight = 0;
  /** A flush of a full batch is scheduled. */
  _soon = false;
  _resource: Attributes | undefined;
  /** While true (consent pending) records are kept but nothing is sent. */
  _hold = false;
  /** Records dropped because the queue was full. */
  dropped = 0;
  /**
   * The fetch the SDK sends with: the page's fetch as it was before the SDK's own fetch
   * instrumentation patched it (the core sets the one it saw at `init()`), so that the SDK's
   * sends skip that wrapper, which would only decide, at a cost on every send, not to record them.
   */
  _fetch = typeof fetch === 'function' ? fetch : undefined;

  constructor(readonly _o: TransportOptions) {}

  push(r: TelemetryRecord): void {
    if (this._q.length >= this._o.maxQueueSize) {
      this.dropped++;
      return;
    }
    this._q.push(r);
    if (this._q.length < this._o.batchSize) this._schedule(this._o.flushInterval);
    else if (!this._soon) {
      // A full batch goes out at the next idle period, not inside the caller's task.
      this._soon = true;
      idle(() => {
        this._soon = false;
        this.flush();
      });
    }
  }

  clear(): void {
    this._q = [];
    this._retry = [];
  }

  /** Sends what is queued. `unloading`: the page may be gone next, send synchronously. */
  flush(unloading?: boolean): void {
    try {
      if (this._hold) return;
      if (!unloading && Date.now() < this._until) return this._schedule(this._until - Date.now());
      const payloads = this._retry.concat(this._encode());
      this._retry = [];
      for (const p of payloads) {
        if (unloading) this._beacon(p);
        else void this._post(p);
      }
    } catch {
      // Never throw into the page (e.g. a record beforeSend made unserializable).
    }
  }

  _encode(): Payload[] {
    const {prepare, scope} = this._o;
    const q: TelemetryRecord[] = [];
    for (const r of this._q.splice(0)) {
      const p = prepare ? safe(prepare)(r) : r;
      if (p) q.push(p);
    }
    const out: Payload[] = [];
    const resource = q.length ? this._resource || (this._resource = this._o.resource()) : {};
    for (let i = 0; i < q.length; i += this._o.batchSize) {
      const batch = q.slice(i, i + this._o.batchSize);
      const events = batch.filter((r) => r.type === 'event');
      const spans = batch.filter((r) => r.type === 'span');
      if (events.length) out.push({path: '/v1/logs', body: encodeLogs(resource, scope, events), attempt: 0});
      if (spans.length) out.push({path: '/v1/traces', body: encodeSpans(resource, scope, spans), attempt: 0});
    }
    return out;
  }

  _url(path: string): string {
    const k = this._o.apiKey;
    return this._o.endpoint + path + (k ? `?api_key=${encodeURIComponent(k)}` : '');
  }

  _headers(): Record<string, string> {
    const h: Record<string, string> = {'Content-Type': 'application/json'};
    if (this._o.apiKey) h['x-vitalsight-key'] = this._o.apiKey;
    return h;
  }

  async _post(p: Payload): Promise<void> {
    let status = 0;
    let retryAfter = 0;
    try {
      const headers = this._headers();
      const zipped = p.body.length >= GZIP_MIN_BYTES ? await gzip(p.body) : undefined;
      if (zipped) headers['Content-Encoding'] = 'gzip';
      const send = this._fetch!; // called unbound: a native fetch refuses another `this`
      const res = await send(this._url(p.path), {method: 'POST', headers, body: zipped || p.body});
      status = res.status;
      retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
    } catch {
      // Network error or CORS failure: status 0, retried below.
    }
    if (status >= 200 && status < 300) return;
    if (!isRetryable(status)) return;
    p.attempt++;
    this._retry.push(p);
    if (this._retry.length > MAX_RETRY_PAYLOADS) this._retry.shift();
    const wait = retryDelay(p.attempt, retryAfter);
    this._until = Math.max(this._until, Date.now() + wait);
    this._schedule(this._until - Date.now());
  }

  /** Fire-and-forget delivery that survives the page: keepalive fetch, else sendBeacon. */
  _beacon(p: Payload): void {
    const url = this._url(p.path);
    const size = p.body.length;
    const send = this._fetch;
    if (send && this._inflight + size <= KEEPALIVE_LIMIT) {
      this._inflight += size;
      const done = () => (this._inflight -= size);
      try {
        send(url, {method: 'POST', headers: this._headers(), body: p.body, keepalive: true}).then(done, done);
        return;
      } catch {
        done();
      }
    }
    // sendBeacon cannot set headers: the key travels in the query string, the body uncompressed.
    safe(() => navigator.sendBeacon(url, new Blob([p.body], {type: 'application/json'})))();
  }

  /** Flushes after `ms`, in idle time (encoding, gzip and the send wait for the page to be idle). */
  _schedule(ms: number): void {
    if (this._timer === undefined) {
      this._timer = setTimeout(() => idle(() => {
        this._timer = undefined;
        this.flush();
      }), Math.max(0, ms));
    }
  }
}
