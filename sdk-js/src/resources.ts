import type {Instrumentation} from './types.js';
import {late} from './lib/late.js';
import {observe} from './lib/observe.js';

/** Initiator types recorded: scripts, stylesheets (`link`, `css` imports), images, fonts. */
const TYPES = /^(script|link|css|img|image)$/;
const FONT = /\.(woff2?|ttf|otf|eot)(\?|#|$)/i;

/**
 * Resource Timing of scripts, stylesheets, images and fonts as `browser.resource.timing`
 * events: sizes in bytes, duration in ms, render-blocking status (Chromium 107+). Capped at
 * `maxResourcesPerPage` per page view. Requests made with fetch/XHR are spans instead.
 * Starts after the load event (resource entries are buffered until then).
 */
export const resources: Instrumentation = /* @__PURE__ */ late((client) => client.onLoad(() => {
  const max = client.options.maxResourcesPerPage || 150;
  const counts: Record<string, number> = {};
  observe<PerformanceResourceTiming>('resource', (e) => {
    const type = FONT.test(e.name) ? 'font' : e.initiatorType;
    if (!TYPES.test(type) && type !== 'font') return;
    if (!client.allowed(e.name)) return;
    const page = client.pageAt(e.startTime).id;
    if ((counts[page] = (counts[page] || 0) + 1) > max) return;
    const blocking = (e as {renderBlockingStatus?: string}).renderBlockingStatus;
    client.event('browser.resource.timing', {
      'url.full': client.clean(e.name),
      'browser.resource.initiator_type': type,
      'browser.resource.transfer_size': e.transferSize,
      'browser.resource.encoded_body_size': e.encodedBodySize,
      'browser.resource.decoded_body_size': e.decodedBodySize,
      'browser.resource.duration': e.duration,
      'browser.resource.render_blocking': blocking === 'non-blocking' ? 'non-blocking' : blocking ? 'blocking' : undefined,
    }, e.startTime);
  });
}));
