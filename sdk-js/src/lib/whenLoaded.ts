import {idle} from './idle.js';
import {safe} from './safe.js';

let _queue: (() => void)[] | undefined;

/**
 * Runs `fn` after the page's load event has ended (at once if it has), in idle time, so that
 * work which can wait (observers whose entries the browser buffers, the page view) stays off
 * the loading path. All callbacks share one load listener and run in registration order.
 * Buffered entry types: https://w3c.github.io/performance-timeline/#dom-performanceobserverinit-buffered
 */
export const whenLoaded = (fn: () => void): void => {
  const cb = safe(fn);
  if (document.readyState === 'complete' && !_queue) return idle(cb);
  if (!_queue) {
    const q: (() => void)[] = (_queue = []);
    addEventListener('load', () => idle(() => {
      _queue = undefined;
      q.forEach((f) => f());
    }), {once: true});
  }
  _queue.push(cb);
};
