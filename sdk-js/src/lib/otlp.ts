import type {AttributeValue, Attributes, TelemetryRecord} from '../types.js';

/**
 * OTLP/HTTP JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * camelCase field names, hex trace/span ids, 64-bit integers (times, intValue) as strings.
 */
const anyValue = (v: AttributeValue) =>
  typeof v === 'string'
    ? {stringValue: v}
    : typeof v === 'boolean'
      ? {boolValue: v}
      : Number.isInteger(v)
        ? {intValue: String(v)}
        : {doubleValue: v};

export const keyValues = (a: Attributes) =>
  Object.keys(a)
    .filter((k) => a[k] !== undefined && a[k] !== '' && (typeof a[k] !== 'number' || isFinite(a[k] as number)))
    .map((key) => ({key, value: anyValue(a[key]!)}));

/** Epoch milliseconds to a nanosecond string, keeping microseconds (doubles lose more). */
export const nanos = (ms: number): string => `${Math.round(ms * 1000)}000`;

/** SEVERITY_NUMBER_INFO / SEVERITY_NUMBER_ERROR. */
const INFO = 9;
const ERROR = 17;
/** SPAN_KIND_CLIENT, STATUS_CODE_ERROR. */
const CLIENT = 3;
const STATUS_ERROR = 2;

export const encodeLogs = (resource: Attributes, scope: object, records: TelemetryRecord[]): string =>
  JSON.stringify({
    resourceLogs: [{
      resource: {attributes: keyValues(resource)},
      scopeLogs: [{
        scope,
        logRecords: records.map((r) => ({
          timeUnixNano: nanos(r.time),
          observedTimeUnixNano: nanos(r.end || r.time),
          severityNumber: r.error ? ERROR : INFO,
          severityText: r.error ? 'ERROR' : 'INFO',
          eventName: r.name,
          attributes: keyValues(r.attributes),
        })),
      }],
    }],
  });

export const encodeSpans = (resource: Attributes, scope: object, records: TelemetryRecord[]): string =>
  JSON.stringify({
    resourceSpans: [{
      resource: {attributes: keyValues(resource)},
      scopeSpans: [{
        scope,
        spans: records.map((r) => ({
          traceId: r.traceId,
          spanId: r.spanId,
          name: r.name,
          kind: CLIENT,
          startTimeUnixNano: nanos(r.time),
          endTimeUnixNano: nanos(r.end || r.time),
          attributes: keyValues(r.attributes),
          status: r.error ? {code: STATUS_ERROR} : {},
        })),
      }],
    }],
  });
