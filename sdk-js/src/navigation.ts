import type {Instrumentation} from './types.js';
import {navigationTiming} from './lib/navigationTiming.js';
import {late} from './lib/late.js';
import {runOnce} from './lib/runOnce.js';
import {safe} from './lib/safe.js';

/**
 * The `browser.page_view` event of the page load (`browser.page_view.type` = `navigation`) with
 * Navigation Timing phases. Recorded in idle time once the load event has ended, or when the page is hidden
 * before that (then with the phases reached so far).
 */
export const navigation: Instrumentation = /* @__PURE__ */ late((client) => {
  const report = runOnce(safe(() => {
    const page = client.pageAt(0);
    const e = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    client.event('browser.page_view', {
      'browser.page_view.type': 'navigation',
      'browser.page.referrer': page.referrer,
      ...(e ? navigationTiming(e) : {}),
    }, 0);
  }));
  // loadEventEnd is set only after the load handlers return: onLoad runs later, in idle time.
  client.onLoad(report);
  client.onHide(report);
});
