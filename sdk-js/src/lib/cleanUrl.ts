/**
 * Makes a URL absolute and removes what must not leave the browser by default:
 * the query string (tokens, e-mail addresses) and the fragment. User info is always removed.
 */
export const cleanUrl = (url: string, keepQuery?: boolean, keepHash?: boolean): string => {
  // Fast path: an absolute http(s) URL without query, fragment or user info is already clean.
  if (/^https?:\/\/[a-z\d.-]+(:\d+)?\/[^?#@\s\\]*$/.test(url)) return url;
  try {
    const u = new URL(url, location.href);
    u.username = u.password = '';
    if (!keepQuery) u.search = '';
    if (!keepHash) u.hash = '';
    return u.href;
  } catch {
    return '';
  }
};
