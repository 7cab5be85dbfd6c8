import {onCLS, onFCP, onINP, onLCP, onTTFB} from 'web-vitals/attribution';
import type {
  CLSMetricWithAttribution,
  FCPMetricWithAttribution,
  INPMetricWithAttribution,
  LCPMetricWithAttribution,
  MetricWithAttribution,
  TTFBMetricWithAttribution,
} from 'web-vitals/attribution';
import type {Attributes, Client, Instrumentation} from './types.js';
import {late} from './lib/late.js';
import {safe} from './lib/safe.js';

/**
 * Core Web Vitals thresholds [good, poor), as web-vitals rates them.
 * Source: https://web.dev/articles/vitals (LCP, INP, CLS), https://web.dev/articles/fcp,
 * https://web.dev/articles/ttfb. Exported for dashboards and tests; ratings come from web-vitals.
 */
export const THRESHOLDS = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
} as const;

const A = 'browser.web_vital.attribution.';

/** The attribution of each metric as flat attributes, and the time the metric happened at. */
const attribution = (client: Client, m: MetricWithAttribution): [Attributes, number] => {
  switch (m.name) {
    case 'LCP': {
      const a = (m as LCPMetricWithAttribution).attribution;
      return [{
        [A + 'target']: a.target,
        [A + 'url']: a.url && client.clean(a.url),
        [A + 'time_to_first_byte']: a.timeToFirstByte,
        [A + 'resource_load_delay']: a.resourceLoadDelay,
        [A + 'resource_load_duration']: a.resourceLoadDuration,
        [A + 'element_render_delay']: a.elementRenderDelay,
      }, a.lcpEntry ? a.lcpEntry.startTime : 0];
    }
    case 'INP': {
      const a = (m as INPMetricWithAttribution).attribution;
      const s = a.longestScript;
      return [{
        [A + 'target']: a.interactionTarget,
        [A + 'interaction_type']: a.interactionType,
        [A + 'input_delay']: a.inputDelay,
        [A + 'processing_duration']: a.processingDuration,
        [A + 'presentation_delay']: a.presentationDelay,
        [A + 'load_state']: a.loadState,
        [A + 'script_url']: s && s.entry.sourceURL ? client.clean(s.entry.sourceURL) : undefined,
        [A + 'script_invoker']: s && s.entry.invoker,
        [A + 'script_subpart']: s && s.subpart,
        [A + 'script_duration']: a.totalScriptDuration,
        [A + 'style_and_layout_duration']: a.totalStyleAndLayoutDuration,
      }, a.interactionTime];
    }
    case 'CLS': {
      const a = (m as CLSMetricWithAttribution).attribution;
      return [{
        [A + 'target']: a.largestShiftTarget,
        [A + 'largest_shift_target']: a.largestShiftTarget,
        [A + 'largest_shift_value']: a.largestShiftValue,
        [A + 'load_state']: a.loadState,
      }, a.largestShiftTime || 0];
    }
    case 'FCP': {
      const a = (m as FCPMetricWithAttribution).attribution;
      return [{
        [A + 'time_to_first_byte']: a.timeToFirstByte,
        [A + 'first_byte_to_fcp']: a.firstByteToFCP,
        [A + 'load_state']: a.loadState,
      }, 0];
    }
    default: {
      const a = (m as TTFBMetricWithAttribution).attribution;
      return [{
        [A + 'waiting_duration']: a.waitingDuration,
        [A + 'cache_duration']: a.cacheDuration,
        [A + 'dns_duration']: a.dnsDuration,
        [A + 'connection_duration']: a.connectionDuration,
        [A + 'request_duration']: a.requestDuration,
      }, 0];
    }
  }
};

/**
 * LCP, CLS, INP, TTFB and FCP with attribution, from Google's web-vitals attribution build,
 * as `browser.web_vital` events. Each is attributed to the page view (route) it happened on:
 * the LCP element's render time, the INP interaction's time, the largest layout shift's time.
 * Starts in the task after the load event (not in idle time: web-vitals started while the page
 * is hidden reports nothing): it reads the entries the browser buffered until then.
 */
export const vitals: Instrumentation = /* @__PURE__ */ late((client) => client.onLoad(() => {
  const report = safe((m: MetricWithAttribution) => {
    const [attrs, at] = attribution(client, m);
    client.event('browser.web_vital', {
      'browser.web_vital.name': m.name,
      'browser.web_vital.value': m.value,
      'browser.web_vital.rating': m.rating,
      'browser.web_vital.delta': m.delta,
      'browser.web_vital.id': m.id,
      'browser.web_vital.navigation_type': m.navigationType,
      ...attrs,
    }, at);
  });
  // INP: web-vitals processes interactions in an idle callback; if the page is hidden before it
  // ran, its final report can be lost (seen in headless Chromium). So follow every change and
  // report the latest value ourselves when the page is hidden, once per id and value.
  // The SDK runs the hide callbacks before its final send.
  let latest: MetricWithAttribution | undefined;
  let sent: [string, number] = ['', 0];
  client.onHide(() => {
    const m = latest;
    if (!m || (m.id === sent[0] && m.value === sent[1])) return;
    const delta = m.value - (m.id === sent[0] ? sent[1] : 0);
    sent = [m.id, m.value];
    report({...m, delta});
  });
  onLCP(report);
  onCLS(report);
  onTTFB(report);
  onFCP(report);
  onINP((m) => (latest = m), {reportAllChanges: true});
}, true));
