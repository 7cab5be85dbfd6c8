import {safe} from './safe.js';

/**
 * Calls `cb` whenever the page may be going away: `visibilitychange` to hidden (the last event
 * that fires reliably on mobile, see https://developer.chrome.com/docs/web-platform/page-lifecycle-api)
 * and `pagehide`. Registered in the bubble phase on `window`, so it runs after web-vitals'
 * capture-phase listener has reported the final CLS/INP/LCP values.
 */
export const onHidden = (cb: () => void): void => {
  const run = safe(() => {
    if (document.visibilityState === 'hidden') cb();
  });
  addEventListener('visibilitychange', run);
  addEventListener('pagehide', safe(cb));
};
