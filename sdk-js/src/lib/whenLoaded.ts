import {safe} from './safe.js';

/**
 * Runs `fn` in a task after the page's load event (at once if it has passed), so that work
 * which can wait (observers whose entries the browser buffers) stays off the loading path.
 * Buffered entry types: https://w3c.github.io/performance-timeline/#dom-performanceobserverinit-buffered
 */
export const whenLoaded = (fn: () => void): void => {
  const cb = safe(fn);
  if (document.readyState === 'complete') setTimeout(cb);
  else addEventListener('load', () => setTimeout(cb), {once: true});
};
