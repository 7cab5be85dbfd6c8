import {idle} from './idle.js';
import {safe} from './safe.js';

/**
 * Runs `fn` after the page's load event has ended (at once if it has), in idle time, so that
 * work which can wait (observers whose entries the browser buffers, the page view) stays off
 * the loading path and out of the page's own tasks. `task`: in the next task instead (web-vitals,
 * which must start before the page is hidden to report anything).
 * Buffered entry types: https://w3c.github.io/performance-timeline/#dom-performanceobserverinit-buffered
 */
export const whenLoaded = (fn: () => void, task?: boolean): void => {
  const cb = safe(fn);
  const run = () => (task ? setTimeout(cb) : idle(cb));
  if (document.readyState === 'complete') run();
  else addEventListener('load', run, {once: true});
};
