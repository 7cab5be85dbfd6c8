/**
 * Random lowercase hex ids: 16 bytes for trace and session ids, 8 for span and page view ids,
 * as OTLP/JSON encodes trace and span ids (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
 * Math.random, as the OpenTelemetry JS RandomIdGenerator: these ids need to be unique, not
 * secret, and the first crypto.getRandomValues call costs milliseconds on the main thread.
 * Up to 8 hex digits (32 bits) per Math.random call: a trace id takes 4 calls, not 32.
 */
export const randomHex = (bytes: number): string => {
  let s = '';
  let any = 0;
  for (let left = bytes * 2; left > 0; left -= 8) {
    const k = 16 ** (left < 8 ? left : 8);
    const n = Math.floor(Math.random() * k);
    any |= n;
    s += (n + k).toString(16).slice(1);
  }
  // An all-zero id is invalid in W3C Trace Context; vanishingly rare, but cheap to rule out.
  return any ? s : randomHex(bytes);
};

/** A 32-hex-digit trace id. */
export const traceId = (): string => randomHex(16);

/** A 16-hex-digit span id. */
export const spanId = (): string => randomHex(8);
