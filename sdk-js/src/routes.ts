import type {Instrumentation} from './types.js';
import {safe} from './lib/safe.js';

/**
 * SPA route changes as page views: after `history.pushState`/`replaceState` or `popstate`
 * changes the path (not only the query or fragment), a new page view id and route start, and a
 * `browser.page_view` event (`route_change`) is sent. Vitals measured later are attributed to
 * the page view current when they happened.
 */
export const routes: Instrumentation = (client) => {
  let path = location.pathname;
  const check = safe(() => {
    if (location.pathname === path) return;
    path = location.pathname;
    const at = performance.now();
    const page = client.navigate('route_change', at);
    // A task later, so a router's setRoute() right after navigating names this page view.
    setTimeout(safe(() => client.event('browser.page_view', {
      'browser.page_view.type': 'route_change',
      'browser.page.referrer': page.referrer,
    }, at)));
  });
  for (const m of ['pushState', 'replaceState'] as const) {
    const original = history[m];
    history[m] = function (this: History, ...args: Parameters<History['pushState']>) {
      const r = original.apply(this, args);
      check();
      return r;
    };
  }
  addEventListener('popstate', check);
};
