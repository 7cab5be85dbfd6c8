// The official OpenTelemetry browser SDK, set up the way its README shows, sending OTLP/HTTP
// JSON to vitalsight. Driven by tests/interop/test_official_otel_web_sdk.py.
//
// Configuration comes from the page URL's query string:
//   endpoint  vitalsight's OTLP/HTTP base URL (http://127.0.0.1:PORT)
//   key       vitalsight API key (sent as the X-Vitalsight-Key header)
//   app, release, env   service.name, service.version, deployment.environment
//
// The scenario: the document-load instrumentation records the page load; two fetches (200
// and 500) go through the fetch instrumentation; a span records a TypeError; then the
// provider is flushed. The outcome is left in `window.__otelInterop` for the driver.
import {SpanStatusCode, trace} from '@opentelemetry/api';
import {OTLPTraceExporter} from '@opentelemetry/exporter-trace-otlp-http';
import {registerInstrumentations} from '@opentelemetry/instrumentation';
import {DocumentLoadInstrumentation} from '@opentelemetry/instrumentation-document-load';
import {FetchInstrumentation} from '@opentelemetry/instrumentation-fetch';
import {defaultResource, resourceFromAttributes} from '@opentelemetry/resources';
import {BatchSpanProcessor} from '@opentelemetry/sdk-trace-base';
import {WebTracerProvider} from '@opentelemetry/sdk-trace-web';
import {ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION} from '@opentelemetry/semantic-conventions';

// Not in the stable semantic-conventions entry point (incubating); the name vitalsight's
// mapping falls back to when `deployment.environment.name` is absent.
const ATTR_DEPLOYMENT_ENVIRONMENT = 'deployment.environment';

const params = new URLSearchParams(location.search);
const endpoint = (params.get('endpoint') || '').replace(/\/+$/, '');
const state = (window.__otelInterop = {done: false, ok: false, ended: [], error: null});

// Records which spans ended, so the scenario can flush only once every span it expects
// (the document load ends on a timer after `load`; fetch spans ~300 ms after the response).
const endedRecorder = {
  onStart() {},
  onEnd(span) {
    const attrs = span.attributes;
    state.ended.push({
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      url: attrs['url.full'] || attrs['http.url'] || '',
    });
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

const exporter = new OTLPTraceExporter({
  url: `${endpoint}/v1/traces`,
  headers: {'X-Vitalsight-Key': params.get('key') || ''},
});

const provider = new WebTracerProvider({
  // defaultResource() adds telemetry.sdk.{name,language,version}, as the SDK's docs do.
  resource: defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: params.get('app') || 'otel-web-interop',
      [ATTR_SERVICE_VERSION]: params.get('release') || '0.0.0',
      [ATTR_DEPLOYMENT_ENVIRONMENT]: params.get('env') || 'interop',
    }),
  ),
  spanProcessors: [
    endedRecorder,
    new BatchSpanProcessor(exporter, {scheduledDelayMillis: 500}),
  ],
});
provider.register();

registerInstrumentations({
  instrumentations: [
    new DocumentLoadInstrumentation(),
    // The exporter's own requests are not app traffic.
    new FetchInstrumentation({ignoreUrls: [new RegExp(`^${endpoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)]}),
  ],
});

const until = async (predicate, what, timeoutMs = 10_000) => {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const count = (name) => state.ended.filter((s) => s.name === name).length;

async function scenario() {
  const ok = await fetch('/api/items/42?view=full');
  await ok.text();
  const failed = await fetch('/api/fail', {method: 'POST', body: '{}'});
  await failed.text();
  state.statuses = [ok.status, failed.status];

  const tracer = trace.getTracer('interop-app', '1.0.0');
  tracer.startActiveSpan('checkout', (span) => {
    try {
      throw new TypeError('cart.items is undefined');
    } catch (error) {
      span.recordException(error);
      span.setStatus({code: SpanStatusCode.ERROR, message: error.message});
    } finally {
      span.end();
    }
  });

  await until(() => count('documentLoad') === 1, 'the documentLoad span');
  await until(() => count('GET') + count('POST') === 2, 'both fetch spans');
  await provider.forceFlush();
}

const start = () =>
  scenario().then(
    () => Object.assign(state, {done: true, ok: true}),
    (error) => Object.assign(state, {done: true, error: String((error && error.stack) || error)}),
  );

if (document.readyState === 'complete') start();
else window.addEventListener('load', start);
