/**
 * SHA-256 of a string as lowercase hex, via Web Crypto. Resolves to '' where `crypto.subtle`
 * is missing (insecure contexts): a user id is then not sent at all, never in clear.
 */
export const sha256 = async (text: string): Promise<string> => {
  try {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => (b + 256).toString(16).slice(1)).join('');
  } catch {
    return '';
  }
};
