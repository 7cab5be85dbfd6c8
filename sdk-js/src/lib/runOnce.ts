/** Wraps `fn` so that only its first call runs (as web-vitals' runOnce). */
export const runOnce = (fn: () => void): (() => void) => {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
};
