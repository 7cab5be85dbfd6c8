/**
 * Wraps a callback so that nothing it throws reaches the host page: an SDK must never break
 * the app it observes. Errors are swallowed on purpose (reporting them could loop).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const safe = <A extends any[], R>(fn: (...args: A) => R) =>
  (...args: A): R | undefined => {
    try {
      return fn(...args);
    } catch {
      return undefined;
    }
  };
