/**
 * Random lowercase hex ids: 16 bytes for trace and session ids, 8 for span and page view ids,
 * as OTLP/JSON encodes trace and span ids (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
 * Math.random, as the OpenTelemetry JS RandomIdGenerator: these ids need to be unique, not
 * secret, and the first crypto.getRandomValues call costs milliseconds on the main thread.
 */
export const randomHex = (bytes: number): string => {
  let s = '';
  let any = 0;
  for (let i = 0; i < bytes * 2; i++) {
    const d = (Math.random() * 16) | 0;
    any |= d;
    s += d.toString(16);
  }
  // An all-zero id is invalid in W3C Trace Context; vanishingly rare, but cheap to rule out.
  return any ? s : randomHex(bytes);
};

/** A 32-hex-digit trace id. */
export const traceId = (): string => randomHex(16);

/** A 16-hex-digit span id. */
export const spanId = (): string => randomHex(8);
