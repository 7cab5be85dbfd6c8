/**
 * Runs `fn` when the main thread is idle (`requestIdleCallback`, at most `timeout` ms later),
 * or in a task where the browser has no idle callbacks (Safari): work that can wait then does
 * not compete with the page's own tasks (rendering, input, its load handlers).
 */
export const idle = (fn: () => void, timeout = 1000): void => {
  const ric = (globalThis as {requestIdleCallback?: (cb: () => void, o: {timeout: number}) => number}).requestIdleCallback;
  if (ric) ric(fn, {timeout});
  else setTimeout(fn, 1);
};
