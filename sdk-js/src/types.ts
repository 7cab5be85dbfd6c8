/** An OTLP attribute value. Integers are sent as `intValue`, other numbers as `doubleValue`. */
export type AttributeValue = string | number | boolean;

/** Attributes of a record; `undefined` and non-finite numbers are left out when sending. */
export type Attributes = Record<string, AttributeValue | undefined>;

/** A URL pattern: a string matches when the URL contains it, a RegExp when it tests true. */
export type UrlPattern = string | RegExp;

/**
 * One record as it is handed to `beforeSend` and then encoded to OTLP.
 * `event`: an OTLP log record with `eventName`; `span`: an OTLP client span.
 */
export interface TelemetryRecord {
  type: 'event' | 'span';
  /** Event name (`browser.web_vital`, `exception`, …) or span name (`GET /api/items/:id`). */
  name: string;
  /** Start time, milliseconds since the Unix epoch (fractional). */
  time: number;
  /** Span end time, milliseconds since the Unix epoch. */
  end?: number;
  attributes: Attributes;
  traceId?: string;
  spanId?: string;
  /** Span status is ERROR / the event is an error. */
  error?: boolean;
  /** @internal Completes name and attributes at send time (request spans). */
  _build?: () => void;
}

/** What `init()` and `start()` accept. Only `endpoint` and `app` are required. */
export interface Options {
  /** Base URL of the OTLP/HTTP receiver; the SDK posts to `${endpoint}/v1/logs` and `/v1/traces`. */
  endpoint: string;
  /** The app: OTLP `service.name`. */
  app: string;
  /** The release: `service.version`. */
  release?: string;
  /** `deployment.environment.name`, e.g. `production`. */
  environment?: string;
  /** vitalsight ingest key: sent as `?api_key=` (works for beacons) and header `x-vitalsight-key`. */
  apiKey?: string;
  /** Share of sessions recorded, (0, 1]. Default 1. Sent as `vitalsight.sample_rate`. */
  sampleRate?: number;
  /** Apply `sampleRate` to errors too. Default false: errors are always kept (sample rate 1). */
  sampleErrors?: boolean;
  /** Send nothing (and store nothing) until `setConsent(true)`. Default false. */
  requireConsent?: boolean;
  /** Record only pages, requests and resources whose URL matches one of these. Default: all. */
  allowUrls?: UrlPattern[];
  /** Never record pages, requests and resources whose URL matches one of these. Default: none. */
  denyUrls?: UrlPattern[];
  /** Keep query strings in recorded URLs. Default false. */
  captureQueryString?: boolean;
  /** Keep fragments (`#…`) in recorded URLs. Default false. */
  captureHash?: boolean;
  /** Cross-origin URLs that receive a W3C `traceparent` header (same-origin always do). */
  tracePropagationTargets?: UrlPattern[];
  /** Route template of a page URL, e.g. `/products/:id`. Default: ids, uuids, hashes collapsed. */
  route?: (url: URL) => string;
  /** Change or drop (return null/false) a record when its batch is about to be sent. */
  beforeSend?: (record: TelemetryRecord) => TelemetryRecord | null | false | undefined;
  /** Records per request: a full buffer flushes at once. Default 50. */
  batchSize?: number;
  /** Milliseconds between flushes. Default 5000. */
  flushInterval?: number;
  /** Records kept in memory at most (while offline, backing off or waiting for consent). Default 500. */
  maxQueueSize?: number;
  /** Resource timing records per page view at most. Default 150. */
  maxResourcesPerPage?: number;
  /** A session ends after this many ms without a record. Default 30 minutes. */
  sessionTimeout?: number;
  /** A session ends after this many ms in any case. Default 4 hours. */
  sessionMaxAge?: number;
  /** Where the session id lives. Default `localStorage` (shared by tabs). */
  persistence?: 'localStorage' | 'sessionStorage' | 'memory';
  /** Extra resource attributes sent with every batch. */
  attributes?: Attributes;
}

/** A page view: a full page load or an SPA route change. */
export interface PageView {
  id: string;
  /** `navigation` or `route_change`. */
  type: string;
  /** Full URL, used for allow/deny matching only. */
  href: string;
  /** URL as sent (no query or fragment unless configured). */
  url: string;
  route: string;
  referrer: string;
  /** performance.now() when it started. */
  start: number;
}

/** What an instrumentation gets from `start()`. */
export interface Client {
  readonly options: Readonly<Options>;
  /** Queue an event (OTLP log record). `at` is a performance.now() time; default now. */
  event(name: string, attributes: Attributes, at?: number, isError?: boolean): void;
  /** Queue a client span. */
  span(record: TelemetryRecord, at: number): void;
  /** The page view that was current at performance time `at`. */
  pageAt(at: number): PageView;
  /** Start a new page view (SPA route change) for the current location. */
  navigate(type: string, at?: number): PageView;
  /** Whether a URL may be recorded (allow/deny lists, not the SDK's own endpoint). */
  allowed(url: string): boolean;
  /** A URL as it may be sent: absolute, query and fragment removed unless configured. */
  clean(url: string): string;
  /** Whether this session is recorded (sampling). */
  sampled(): boolean;
  /**
   * Runs `fn` once the page's load event has ended (at once if it has): in idle time, or with
   * `task` in the next task. Work that can wait for the load should be started this way, so
   * that it stays out of the page load.
   */
  onLoad(fn: () => void, task?: boolean): void;
  /** Runs `fn` whenever the page is hidden or left, before the SDK's final send. */
  onHide(fn: () => void): void;
}

/**
 * A signal module: given the client, starts observing. Started by `start()`, or, when `late`
 * is set, in the task after the load event (or when the page is hidden before it): signals
 * that only read what the browser buffers stay out of the page load entirely.
 */
export type Instrumentation = ((client: Client) => void) & {late?: boolean};
