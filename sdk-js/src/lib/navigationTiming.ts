import type {Attributes} from '../types.js';

const N = 'browser.navigation_timing.';

const span = (start: number, end: number): number | undefined =>
  end > 0 && end >= start ? end - start : undefined;

/**
 * The phases of a page load in milliseconds from a Navigation Timing Level 2 entry
 * (https://www.w3.org/TR/navigation-timing-2/#processing-model):
 * dns, connect (TCP incl. TLS), tls, request (request sent → first byte), response (first →
 * last byte), dom_processing (last byte → DOM complete), load (fetchStart → load event end,
 * as the server maps the OpenTelemetry documentLoad span) and ttfb (as web-vitals: first byte after activation). Phases not reached are left out.
 */
export const navigationTiming = (e: PerformanceNavigationTiming): Attributes => {
  const activation = (e as {activationStart?: number}).activationStart || 0;
  return {
    [N + 'dns']: span(e.domainLookupStart, e.domainLookupEnd),
    [N + 'connect']: span(e.connectStart, e.connectEnd),
    [N + 'tls']: e.secureConnectionStart > 0 ? span(e.secureConnectionStart, e.connectEnd) : 0,
    [N + 'request']: span(e.requestStart, e.responseStart),
    [N + 'response']: span(e.responseStart, e.responseEnd),
    [N + 'dom_processing']: span(e.responseEnd, e.domComplete),
    [N + 'load']: span(e.fetchStart, e.loadEventEnd),
    [N + 'ttfb']: e.responseStart > 0 ? Math.max(0, e.responseStart - activation) : undefined,
    'browser.navigation_timing.type': e.type,
    'browser.navigation_timing.transfer_size': e.transferSize,
  };
};
