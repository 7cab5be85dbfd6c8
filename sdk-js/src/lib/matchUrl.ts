import type {UrlPattern} from '../types.js';

/** True when `url` contains a string pattern or matches a RegExp pattern. */
export const matchUrl = (url: string, patterns: UrlPattern[] | undefined): boolean =>
  !!patterns &&
  patterns.some((p) => (typeof p === 'string' ? url.includes(p) : (p.lastIndex = 0, p.test(url))));

/**
 * Whether a URL may be recorded: it matches `allow` (when given and not empty) and no `deny`.
 */
export const isAllowed = (
  url: string,
  allow: UrlPattern[] | undefined,
  deny: UrlPattern[] | undefined,
): boolean => (!allow || !allow.length || matchUrl(url, allow)) && !matchUrl(url, deny);
