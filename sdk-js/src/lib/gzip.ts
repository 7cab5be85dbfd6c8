/**
 * Gzips a string with the browser's CompressionStream, or resolves to undefined where it is
 * missing (send uncompressed then). OTLP/HTTP receivers accept `Content-Encoding: gzip`.
 */
export const gzip = async (text: string): Promise<ArrayBuffer | undefined> => {
  if (typeof CompressionStream !== 'function') return undefined;
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    return await new Response(stream).arrayBuffer();
  } catch {
    return undefined;
  }
};
