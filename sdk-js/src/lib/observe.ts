import {safe} from './safe.js';

/**
 * Observes one performance entry type, including entries buffered before the SDK loaded.
 * Returns nothing (and does nothing) when the browser does not support the type.
 */
export const observe = <T extends PerformanceEntry>(
  type: string,
  cb: (entry: T) => void,
): PerformanceObserver | undefined => {
  try {
    if (PerformanceObserver.supportedEntryTypes.includes(type)) {
      const po = new PerformanceObserver(
        safe((list: PerformanceObserverEntryList) => list.getEntries().forEach((e) => cb(e as T))),
      );
      po.observe({type, buffered: true});
      return po;
    }
  } catch {
    // Old browsers throw on unknown types; that signal is simply not collected.
  }
  return undefined;
};
