/** First retry delay; doubled per failed attempt up to MAX_RETRY_DELAY. */
export const BASE_RETRY_DELAY = 1000;
export const MAX_RETRY_DELAY = 60_000;

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date, RFC 9110 §10.2.3) to milliseconds.
 */
export const parseRetryAfter = (value: string | null | undefined, now = Date.now()): number => {
  if (!value) return 0;
  const s = Number(value);
  if (value.trim() && !isNaN(s)) return Math.max(0, s * 1000);
  const t = Date.parse(value);
  return isNaN(t) ? 0 : Math.max(0, t - now);
};

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with ±20% jitter,
 * never shorter than what the server asked for with Retry-After, capped at MAX_RETRY_DELAY.
 */
export const retryDelay = (attempt: number, retryAfter = 0, random = Math.random()): number => {
  const backoff = Math.min(MAX_RETRY_DELAY, BASE_RETRY_DELAY * 2 ** Math.max(0, attempt - 1));
  return Math.min(MAX_RETRY_DELAY, Math.max(retryAfter, backoff * (0.8 + 0.4 * random)));
};

/** Statuses worth retrying: the server or a proxy is overloaded or briefly down. */
export const isRetryable = (status: number): boolean =>
  status === 0 || status === 408 || status === 429 || status >= 500;
