import type {Attributes} from '../types.js';

interface UAData {
  brands?: {brand: string; version: string}[];
  mobile?: boolean;
  platform?: string;
}

const BROWSERS: [string, RegExp][] = [
  ['Edge', /Edg(?:e|A|iOS)?\/([\d.]+)/],
  ['Opera', /OPR\/([\d.]+)/],
  ['Samsung Internet', /SamsungBrowser\/([\d.]+)/],
  ['Firefox', /(?:Firefox|FxiOS)\/([\d.]+)/],
  ['Chrome', /(?:Chrome|CriOS)\/([\d.]+)/],
  ['Safari', /Version\/([\d.]+).*Safari/],
];
const OSES: [string, RegExp][] = [
  ['Windows', /Windows/],
  ['Android', /Android/],
  ['iOS', /iPhone|iPad|iPod/],
  ['macOS', /Mac OS X|Macintosh/],
  ['ChromeOS', /CrOS/],
  ['Linux', /Linux/],
];

/** `mobile`, `tablet` or `desktop`, as the `device.type` column expects. */
export const deviceType = (ua: string, mobile?: boolean): string =>
  /iPad|Tablet|Android(?!.*Mobile)/i.test(ua) ? 'tablet' : mobile || /Mobi|iPhone/i.test(ua) ? 'mobile' : 'desktop';

/** Browser name/version and OS from a user agent string (small on purpose; the server may enrich). */
export const parseUserAgent = (ua: string): Attributes => {
  const b = BROWSERS.find(([, re]) => re.test(ua));
  const os = OSES.find(([, re]) => re.test(ua));
  return {
    'user_agent.name': b ? b[0] : undefined,
    'user_agent.version': b ? ua.match(b[1])![1] : undefined,
    'user_agent.os.name': os ? os[0] : undefined,
  };
};

/** Constant context of this browser, sent once per batch on the OTLP resource. */
export const browserContext = (): Attributes => {
  const n = navigator;
  const ua = n.userAgent;
  const d = (n as {userAgentData?: UAData}).userAgentData;
  return {
    'user_agent.original': ua,
    ...parseUserAgent(ua),
    'browser.brands': d && d.brands ? d.brands.map((x) => `${x.brand} ${x.version}`).join(', ') : undefined,
    'browser.platform': d ? d.platform : undefined,
    'browser.mobile': d ? d.mobile : undefined,
    'browser.language': n.language,
    'device.type': deviceType(ua, d && d.mobile),
    'browser.screen.width': screen.width,
    'browser.screen.height': screen.height,
    'browser.screen.pixel_ratio': devicePixelRatio,
    // The UTC offset in minutes (e.g. 120 for UTC+2). Not the IANA name: the first
    // Intl.DateTimeFormat() costs ~10 ms of main thread (ICU data) on a page load.
    'browser.timezone_offset': -new Date().getTimezoneOffset(),
  };
};

/** Network information that may change during a page view (Network Information API). */
export const networkContext = (): Attributes => {
  const c = (navigator as {connection?: {effectiveType?: string; type?: string}}).connection;
  return c ? {'network.connection.subtype': c.effectiveType, 'network.connection.type': c.type} : {};
};
