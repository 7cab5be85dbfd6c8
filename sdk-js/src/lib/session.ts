import {randomHex} from './ids.js';

/** Defaults: a session ends after 30 minutes without activity or after 4 hours in any case. */
export const SESSION_TIMEOUT = 30 * 60_000;
export const SESSION_MAX_AGE = 4 * 3600_000;
export const SESSION_KEY = 'vitalsight.session';

export interface Session {
  /** 32 random hex digits. */
  id: string;
  /** Created, epoch ms. */
  start: number;
  /** Last activity, epoch ms. */
  last: number;
  /** Whether this session was drawn into the sample. */
  sampled: boolean;
  /** The sample rate the draw was made with; a new rate means a new draw. */
  rate: number;
}

const parse = (raw: string | null | undefined): Session | undefined => {
  try {
    const s = raw ? (JSON.parse(raw) as Session) : undefined;
    return s && typeof s.id === 'string' && s.start > 0 && s.last > 0 ? s : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Returns the session to use at `now`: `current` (or the stored one) unless it has been idle
 * longer than `timeout`, is older than `maxAge` or was sampled at another rate; otherwise a new
 * session with a fresh sampling draw. Marks it active at `now`.
 */
export const touchSession = (
  current: Session | undefined,
  stored: string | null | undefined,
  now: number,
  rate: number,
  timeout = SESSION_TIMEOUT,
  maxAge = SESSION_MAX_AGE,
  random = Math.random,
): Session => {
  let s = current || parse(stored);
  if (!s || now - s.last > timeout || now - s.start > maxAge || s.rate !== rate) {
    s = {id: randomHex(16), start: now, last: now, sampled: random() < rate, rate};
  }
  s.last = now;
  return s;
};

/** The storage a session is kept in, or undefined (memory only, or storage blocked). */
export const getStorage = (kind: string | undefined): Storage | undefined => {
  try {
    return kind === 'memory' ? undefined : kind === 'sessionStorage' ? sessionStorage : localStorage;
  } catch {
    return undefined;
  }
};
