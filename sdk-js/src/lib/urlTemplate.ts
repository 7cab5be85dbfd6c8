/**
 * Collapses the variable parts of a URL path so that requests and routes group well:
 * numeric ids become `:id`, UUIDs `:uuid`, hex digests and long random tokens `:hash`.
 * The same rules as the server-side fallback in ARCHITECTURE.md ("ids, uuids and hashes collapsed").
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\d+$/;
const HEX = /^[0-9a-f]{16,}$/i;
const TOKEN = /^[\w-]{20,}$/;

export const templateSegment = (segment: string): string => {
  if (NUMBER.test(segment)) return ':id';
  if (UUID.test(segment)) return ':uuid';
  if (/\d/.test(segment) && (HEX.test(segment) || TOKEN.test(segment))) return ':hash';
  return segment;
};

/** `/users/42/orders/9f1c…` → `/users/:id/orders/:hash`. Query and fragment are dropped. */
export const urlTemplate = (path: string): string =>
  path.replace(/[?#].*$/, '').split('/').map(templateSegment).join('/') || '/';
