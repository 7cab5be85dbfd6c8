import type {Attributes, Client, Instrumentation, Options, PageView, TelemetryRecord} from './types.js';
import {Transport} from './transport.js';
import {browserContext, networkContext} from './lib/env.js';
import {randomHex} from './lib/ids.js';
import {cleanUrl} from './lib/cleanUrl.js';
import {isAllowed} from './lib/matchUrl.js';
import {idle} from './lib/idle.js';
import {PageViews} from './lib/pageViews.js';
import {safe} from './lib/safe.js';
import {getStorage, SESSION_KEY, touchSession, type Session} from './lib/session.js';
import {sha256} from './lib/sha256.js';
import {urlTemplate} from './lib/urlTemplate.js';

export const VERSION = '0.1.0';
/** localStorage key of the opt-out switch (`setOptOut`). */
export const OPT_OUT_KEY = 'vitalsight.optout';

/** How often (ms) the session's last-activity time is written to storage at most. */
const SESSION_WRITE_INTERVAL = 5000;

let _client: CoreClient | undefined;

class CoreClient implements Client {
  /** Created after the load event (or when the page is hidden first, or on `flush()`). */
  _t: Transport | undefined;
  /** Records made before the transport exists (requests and errors while the page loads). */
  _early: TelemetryRecord[] = [];
  /** `onLoad` callbacks waiting for the load event (undefined once it has passed). */
  _onLoad: [() => void, boolean | undefined][] | undefined = [];
  _onHide: (() => void)[] = [];
  _pages = new PageViews();
  /** The page's fetch at `init()`, before the fetch signal wraps it: the SDK sends with it. */
  _fetch = globalThis.fetch;
  _session: Session | undefined;
  _written = 0;
  /** undefined: not looked up yet; null: none. */
  _storage: Storage | null | undefined;
  _checked = false;
  /** 'on', 'pending' (waiting for consent) or 'off' (opted out / consent refused). */
  _state: string;
  _user = '';
  /** Network type, refreshed when it changes (Network Information API); read at the first record. */
  _net: Attributes | undefined;
  /** Ids of page views whose URL is not to be recorded (allow/deny lists). */
  _denied = new Set<string>();

  constructor(readonly options: Options) {
    // No storage access, no environment probing and no transport here: they wait for the load
    // event (see README, "Budgets"). Until then records are only collected.
    this._state = options.requireConsent ? 'pending' : 'on';
    this._page('navigation', 0);
  }

  /**
   * After the load event: the transport starts and takes the records made so far. Also on
   * `flush()`, `setConsent(true)` and when the page is hidden before the load.
   */
  _ready(): Transport {
    if (this._t) return this._t;
    const o = this.options;
    const t = (this._t = new Transport({
      endpoint: o.endpoint,
      apiKey: o.apiKey,
      resource: () => ({
        'service.name': o.app,
        'service.version': o.release,
        'deployment.environment.name': o.environment,
        'telemetry.sdk.name': 'vitalsight',
        'telemetry.sdk.language': 'webjs',
        'telemetry.sdk.version': VERSION,
        ...browserContext(),
        ...o.attributes,
      }),
      prepare: (r) => this._prepare(r),
      scope: {name: 'vitalsight', version: VERSION},
      batchSize: o.batchSize || 50,
      flushInterval: o.flushInterval || 5000,
      maxQueueSize: o.maxQueueSize || 500,
    }));
    t._fetch = this._fetch;
    t._hold = this._state === 'pending';
    const early = this._early;
    this._early = [];
    for (const r of early) t.push(r);
    return t;
  }

  /** Installs the load and hide handlers (once, after the signal modules). */
  _boot(): void {
    // In the task after the load event: the transport, then the `onLoad` callbacks (the late
    // signal modules among them) in their order. When the page is hidden or left, the same at
    // once if the load has not happened yet (the page view of a page left before its load),
    // then the hide callbacks (final INP, that page view), then everything is sent.
    const loaded = () => {
      this._ready();
      const fns = this._onLoad;
      this._onLoad = undefined;
      if (fns) for (const [fn, task] of fns) this.onLoad(fn, task);
    };
    const hidden = safe(() => {
      loaded();
      for (const fn of this._onHide) safe(fn)();
      this._save(true);
      this._t!.flush(true);
    });
    addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && hidden());
    addEventListener('pagehide', hidden);
    const later = () => setTimeout(() => safe(loaded)());
    if (document.readyState === 'complete') later();
    else addEventListener('load', later, {once: true});
  }

  /**
   * After the load event: `fn` runs in its own idle callback, or with `task` in the task after
   * the load (web-vitals must start before the page is hidden to report anything).
   */
  onLoad(fn: () => void, task?: boolean): void {
    if (this._onLoad) this._onLoad.push([fn, task]);
    else {
      const f = safe(fn);
      if (task) f();
      else idle(f);
    }
  }

  onHide(fn: () => void): void {
    this._onHide.push(fn);
  }

  _optedOut(): boolean {
    try {
      return localStorage.getItem(OPT_OUT_KEY) === '1';
    } catch {
      return false;
    }
  }

  /** The storage of the session, looked up once (the first access costs ~1 ms). */
  _store(): Storage | undefined {
    if (this._storage === undefined) this._storage = getStorage(this.options.persistence) || null;
    return this._storage || undefined;
  }

  _rate(): number {
    const r = this.options.sampleRate;
    return r === undefined || !(r >= 0) ? 1 : Math.min(1, r);
  }

  _touch(): Session {
    const o = this.options;
    const stored = this._session ? undefined : safe(() => this._store() && this._store()!.getItem(SESSION_KEY))();
    const s = touchSession(this._session, stored, Date.now(), this._rate(), o.sessionTimeout, o.sessionMaxAge);
    const isNew = s !== this._session && s.start === s.last;
    this._session = s;
    this._save(isNew);
    return s;
  }

  /** Writes the session to storage (never before consent), throttled unless `force`. */
  _save(force?: boolean): void {
    const s = this._session;
    if (!s || this._state !== 'on' || (!force && Date.now() - this._written < SESSION_WRITE_INTERVAL)) return;
    this._written = Date.now();
    safe(() => this._store() && this._store()!.setItem(SESSION_KEY, JSON.stringify(s)))();
  }

  sampled(): boolean {
    // At rate 1 every session is sampled (a stored one drawn at another rate is redrawn at 1),
    // so the answer needs no storage: the first request of the page (often in a load handler)
    // does not pay for the first localStorage access. The session is touched at send time.
    if (this._rate() >= 1 && !this._session) return true;
    return this._touch().sampled;
  }

  allowed(url: string): boolean {
    const o = this.options;
    // Without allow/deny lists only the SDK's own (absolute) endpoint URLs are excluded:
    // no URL parsing on this path, which runs for every resource and request.
    if (!o.allowUrls && !o.denyUrls) return !url.startsWith(o.endpoint + '/v1/');
    const abs = cleanUrl(url, true, true);
    return !!abs && !abs.startsWith(o.endpoint + '/v1/') && isAllowed(abs, o.allowUrls, o.denyUrls);
  }

  clean(url: string): string {
    return cleanUrl(url, this.options.captureQueryString, this.options.captureHash);
  }

  pageAt(at: number): PageView {
    return this._fill(this._pages.at(at));
  }

  /**
   * A new page view. Only its id and start are set here: URL, route and referrer (URL
   * parsing, regular expressions, the app's route function) are filled in by `_fill` when
   * first read, for the page load's view at send time, after the load.
   */
  _page(type: string, at: number): PageView {
    const href = location.href;
    const prev = this._pages._list.length ? this._fill(this._pages.current()) : undefined;
    const id = randomHex(8);
    if (!this.allowed(href)) this._denied.add(id);
    return this._pages.add({id, type, href, url: '', route: '', referrer: prev ? prev.url : '', start: at});
  }

  _fill(p: PageView): PageView {
    if (!p.url) {
      const route = this.options.route;
      const u = new URL(p.href);
      p.url = this.clean(p.href);
      // setRoute() may have named it already.
      p.route ||= safe(() => route && route(u))() || urlTemplate(u.pathname);
      if (p.type === 'navigation' && document.referrer) p.referrer = this.clean(document.referrer);
    }
    return p;
  }

  navigate(type: string, at = performance.now()): PageView {
    return this._fill(this._page(type, at));
  }

  event(name: string, attributes: Attributes, at = performance.now(), isError?: boolean): void {
    this._record({type: 'event', name, time: performance.timeOrigin + at, attributes, error: isError}, at);
  }

  span(record: TelemetryRecord, at: number): void {
    this._record(record, at);
  }

  /** Recording is cheap: the page view is noted, the rest waits for `_prepare` at send time. */
  _record(r: TelemetryRecord, at: number): void {
    if (this._state === 'off') return;
    const page = this._pages.at(at);
    if (this._denied.has(page.id)) return;
    _pageOf.set(r, page);
    if (!this._net) {
      this._net = networkContext();
      const c = (navigator as {connection?: EventTarget}).connection;
      if (c) c.addEventListener('change', () => (this._net = networkContext()));
    }
    r.attributes = {...this._net, ...r.attributes};
    const t = this._t;
    if (t) t.push(r);
    else if (this._early.length < (this.options.maxQueueSize || 500)) this._early.push(r);
  }

  _prepare(r: TelemetryRecord): TelemetryRecord | null | false | undefined {
    if (r._build) {
      r._build();
      delete r._build;
    }
    if (!this._checked) {
      this._checked = true;
      if (this._optedOut()) this._state = 'off';
    }
    const page = _pageOf.get(r);
    if (this._state === 'off' || !page) return null;
    this._fill(page);
    const s = this._touch();
    const isError = r.name === 'exception' && !this.options.sampleErrors;
    if (!s.sampled && !isError) return null;
    r.attributes = {
      'session.id': s.id,
      'browser.page.view_id': page.id,
      'browser.page.route': page.route,
      'browser.page.url': page.url,
      'vitalsight.sample_rate': isError ? 1 : s.rate,
      'user.hash': this._user || undefined,
      ...r.attributes,
    };
    const hook = this.options.beforeSend;
    return hook ? hook(r) : r;
  }
}

/** Drops what is queued (consent refused, opt-out). Not a method: only those need it. */
const clear = (c: CoreClient): void => {
  c._early = [];
  if (c._t) c._t.clear();
};

/** The page view each queued record belongs to. */
const _pageOf = new WeakMap<TelemetryRecord, PageView>();

/**
 * Starts the SDK with the given signal modules. Use this (with only the modules you import)
 * to keep a bundle small; `init()` starts all of them. Calling it again returns the running
 * client. Never throws: on any failure the SDK stays off.
 */
export const start = (options: Options, instrumentations: Instrumentation[]): Client | undefined => {
  if (_client) return _client;
  try {
    if (!options || !options.endpoint || !options.app || typeof window === 'undefined') return undefined;
    let endpoint = options.endpoint;
    while (endpoint.endsWith('/')) endpoint = endpoint.slice(0, -1);
    const c = (_client = new CoreClient({...options, endpoint}));
    // No helper here (each function called for the first time is compiled first).
    for (const i of instrumentations) {
      if (i.late) c.onLoad(() => i(c), true);
      else {
        try {
          i(c);
        } catch {
          // That signal stays off.
        }
      }
    }
    c._boot();
    return c;
  } catch {
    return undefined;
  }
};

/**
 * Gives (true) or refuses (false) consent when `requireConsent` is set. Before consent nothing
 * is sent or stored; records are kept in memory (bounded) and sent once consent is given.
 * Refusing drops them and stops recording for this page.
 */
export const setConsent = (granted: boolean): void => {
  const c = _client;
  if (!c || c._state === 'off' && c._optedOut()) return;
  c._state = granted ? 'on' : 'off';
  if (granted) {
    c._save(true);
    const t = c._ready();
    t._hold = false;
    t.flush();
  } else clear(c);
};

/**
 * The opt-out switch, remembered in localStorage across page loads: while set, nothing is
 * recorded or sent. `setOptOut(false)` turns recording back on (subject to consent).
 */
export const setOptOut = (optOut: boolean): void => {
  const c = _client;
  const was = c ? c._optedOut() : false;
  safe(() => (optOut ? localStorage.setItem(OPT_OUT_KEY, '1') : localStorage.removeItem(OPT_OUT_KEY)))();
  if (!c) return;
  c._checked = true;
  // Opting out drops the queue; so does opting in again: it holds what was recorded while out.
  if (optOut || was) clear(c);
  if (optOut) c._state = 'off';
  else if (c._state === 'off') {
    c._state = c.options.requireConsent ? 'pending' : 'on';
    if (c._t) c._t._hold = c._state === 'pending';
  }
};

/**
 * Sets the signed-in user; only its SHA-256 (`user.hash`) is ever sent. `null` clears it.
 */
export const setUser = (id: string | null): void => {
  const c = _client;
  if (!c) return;
  c._user = '';
  if (id) void sha256(String(id)).then((h) => (c._user = h));
};

/**
 * Names the route of the current page view (e.g. `/products/:id` from your router) instead of
 * the collapsed path. Applies until the next route change.
 */
export const setRoute = (template: string): void => {
  if (_client) _client._pages.current().route = template;
};

/** Sends everything queued now. */
export const flush = (): void => {
  if (_client) _client._ready().flush();
};
