import type {Instrumentation} from './types.js';
import {late} from './lib/late.js';
import {observe} from './lib/observe.js';

/** A task longer than this blocks input (https://w3c.github.io/longtasks/#sec-terminology). */
export const LONG_TASK_THRESHOLD = 50;

interface LoAF extends PerformanceEntry {
  blockingDuration: number;
  scripts: {duration: number; sourceURL: string; invoker: string}[];
}

/**
 * Long tasks (`longtask`) and, where supported (Chromium 123+), long animation frames
 * (`long-animation-frame`, with the longest script's URL and invoker) as `browser.long_task`
 * events. Starts after the load event (both entry types are buffered until then).
 */
export const longTasks: Instrumentation = /* @__PURE__ */ late((client) => client.onLoad(() => {
  const report = (e: PerformanceEntry, type: string, blocking: number, url?: string, invoker?: string) =>
    client.event('browser.long_task', {
      'browser.long_task.type': type,
      'browser.long_task.duration': e.duration,
      'browser.long_task.blocking_duration': Math.max(0, blocking),
      'browser.long_task.script_url': url ? client.clean(url) : undefined,
      'browser.long_task.invoker': invoker,
    }, e.startTime);

  observe('longtask', (e) => {
    const a = (e as {attribution?: {containerSrc?: string; containerName?: string}[]}).attribution;
    report(e, 'longtask', e.duration - LONG_TASK_THRESHOLD, a && a[0] && a[0].containerSrc, a && a[0] && a[0].containerName);
  });
  observe<LoAF>('long-animation-frame', (e) => {
    const s = e.scripts.reduce<LoAF['scripts'][0] | undefined>((m, x) => (!m || x.duration > m.duration ? x : m), undefined);
    report(e, 'long-animation-frame', e.blockingDuration, s && s.sourceURL, s && s.invoker);
  });
}));
