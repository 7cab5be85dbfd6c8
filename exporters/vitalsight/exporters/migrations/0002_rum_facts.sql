-- RUM fact tables, derived from the raw tables by materialized views (see ARCHITECTURE.md:
-- any OTLP producer lands here, and the mapping runs vectorized in ClickHouse).
-- `a` is the record's attributes over the resource's: a context attribute may sit on either.

CREATE TABLE IF NOT EXISTS rum_page_views (
-- @include context_columns
    url String CODEC(ZSTD(1)),
    view_type LowCardinality(String),
    dns_ms Nullable(Float64),
    connect_ms Nullable(Float64),
    tls_ms Nullable(Float64),
    request_ms Nullable(Float64),
    response_ms Nullable(Float64),
    dom_processing_ms Nullable(Float64),
    load_ms Nullable(Float64),
    ttfb_ms Nullable(Float64)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, timestamp)
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_page_views_from_logs_mv TO rum_page_views AS
WITH mapUpdate(ResourceAttributes, LogAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
-- @include page_route_of_event
    cutQueryStringAndFragment(if(a['browser.page.url'] != '', a['browser.page.url'], a['url.full'])) AS url,
    if(a['browser.page_view.type'] != '', a['browser.page_view.type'], 'navigation') AS view_type,
    toFloat64OrNull(a['browser.navigation_timing.dns']) AS dns_ms,
    toFloat64OrNull(a['browser.navigation_timing.connect']) AS connect_ms,
    toFloat64OrNull(a['browser.navigation_timing.tls']) AS tls_ms,
    toFloat64OrNull(a['browser.navigation_timing.request']) AS request_ms,
    toFloat64OrNull(a['browser.navigation_timing.response']) AS response_ms,
    toFloat64OrNull(a['browser.navigation_timing.dom_processing']) AS dom_processing_ms,
    toFloat64OrNull(a['browser.navigation_timing.load']) AS load_ms,
    toFloat64OrNull(a['browser.navigation_timing.ttfb']) AS ttfb_ms
FROM otel_logs
WHERE EventName = 'browser.page_view';

-- The official OpenTelemetry document-load instrumentation: a `documentLoad` span with the
-- DOM and load marks as events, and its child `documentFetch` span with the network marks.
-- Both arrive in one export (one insert block), so the page view joins them by parent.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_page_views_from_document_load_mv TO rum_page_views AS
WITH
    (s, e) -> if(m['fetchStart'] > 0 AND m[s] >= m['fetchStart'] AND m[e] >= m[s],
                 (m[e] - m[s]) / 1e6, NULL) AS span_ms
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
    if(a['browser.page.route'] != '', a['browser.page.route'], path(if(a['url.full'] != '', a['url.full'], a['http.url']))) AS route,
    cutQueryStringAndFragment(if(a['url.full'] != '', a['url.full'], a['http.url'])) AS url,
    'navigation' AS view_type,
    span_ms('domainLookupStart', 'domainLookupEnd') AS dns_ms,
    span_ms('connectStart', 'connectEnd') AS connect_ms,
    span_ms('secureConnectionStart', 'connectEnd') AS tls_ms,
    span_ms('requestStart', 'responseStart') AS request_ms,
    span_ms('responseStart', 'responseEnd') AS response_ms,
    span_ms('responseEnd', 'domComplete') AS dom_processing_ms,
    span_ms('fetchStart', 'loadEventEnd') AS load_ms,
    span_ms('fetchStart', 'responseStart') AS ttfb_ms
FROM (
    SELECT
        TraceId,
        anyIf(Timestamp, SpanName = 'documentLoad') AS Timestamp,
        anyIf(ServiceName, SpanName = 'documentLoad') AS ServiceName,
        anyIf(mapUpdate(ResourceAttributes, SpanAttributes), SpanName = 'documentLoad') AS a,
        mapFromArrays(groupArrayArray(Events.Name),
                      groupArrayArray(arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp))) AS m
    FROM otel_traces
    WHERE SpanName IN ('documentLoad', 'documentFetch')
    GROUP BY TraceId, if(SpanName = 'documentLoad', SpanId, ParentSpanId)
    HAVING countIf(SpanName = 'documentLoad') = 1
);

CREATE TABLE IF NOT EXISTS rum_vitals (
-- @include context_columns
    name LowCardinality(String),
    value Float64,
    rating LowCardinality(String),
    delta Float64,
    metric_id String CODEC(ZSTD(1)),
    navigation_type LowCardinality(String),
    target String CODEC(ZSTD(1)),
    attribution Map(LowCardinality(String), String) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, name, timestamp)
SETTINGS ttl_only_drop_parts = 1;

-- Reads both the attribute form (browser.web_vital.*) and the semconv body form
-- ({name, value, delta, id}); ratings follow web.dev thresholds when none was sent.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_mv TO rum_vitals AS
WITH
    mapUpdate(ResourceAttributes, LogAttributes) AS a,
    upper(if(a['browser.web_vital.name'] != '', a['browser.web_vital.name'], JSONExtractString(Body, 'name'))) AS vital_name,
    toFloat64OrZero(if(a['browser.web_vital.value'] != '', a['browser.web_vital.value'], JSONExtractRaw(Body, 'value'))) AS vital_value,
    (good, poor) -> multiIf(vital_value <= good, 'good', vital_value <= poor, 'needs-improvement', 'poor') AS rate
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
-- @include page_route_of_event
    vital_name AS name,
    vital_value AS value,
    multiIf(
        a['browser.web_vital.rating'] != '', lower(a['browser.web_vital.rating']),
        vital_name = 'LCP', rate(2500, 4000),
        vital_name = 'INP', rate(200, 500),
        vital_name = 'CLS', rate(0.1, 0.25),
        vital_name = 'FCP', rate(1800, 3000),
        vital_name = 'TTFB', rate(800, 1800),
        vital_name = 'FID', rate(100, 300),
        '') AS rating,
    toFloat64OrZero(if(a['browser.web_vital.delta'] != '', a['browser.web_vital.delta'], JSONExtractRaw(Body, 'delta'))) AS delta,
    if(a['browser.web_vital.id'] != '', a['browser.web_vital.id'], JSONExtractString(Body, 'id')) AS metric_id,
    a['browser.web_vital.navigation_type'] AS navigation_type,
    arrayFirst(x -> x != '', [
        a['browser.web_vital.attribution.target'],
        a['browser.web_vital.attribution.element'],
        a['browser.web_vital.attribution.interaction_target'],
        a['browser.web_vital.attribution.largest_shift_target']]) AS target,
    mapApply((k, v) -> (substring(k, 31), v),
        mapFilter((k, v) -> startsWith(k, 'browser.web_vital.attribution.'), LogAttributes)) AS attribution
FROM otel_logs
WHERE EventName = 'browser.web_vital';

CREATE TABLE IF NOT EXISTS rum_errors (
-- @include context_columns
    type LowCardinality(String),
    message String CODEC(ZSTD(1)),
    stack String CODEC(ZSTD(1)),
    fingerprint LowCardinality(String),
    source LowCardinality(String)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, timestamp)
SETTINGS ttl_only_drop_parts = 1;

-- The fingerprint is the errors processor's when it ran; otherwise type + message with
-- digits folded, so "id 123 not found" and "id 456 not found" group together.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_errors_from_logs_mv TO rum_errors AS
WITH mapUpdate(ResourceAttributes, LogAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
-- @include page_route_of_event
    a['exception.type'] AS type,
    if(a['exception.message'] != '', a['exception.message'], Body) AS message,
    a['exception.stacktrace'] AS stack,
    if(a['vitalsight.error.fingerprint'] != '', a['vitalsight.error.fingerprint'],
       lower(hex(cityHash64(type, replaceRegexpAll(message, '[0-9]+', '0'))))) AS fingerprint,
    if(a['vitalsight.error.source'] != '', a['vitalsight.error.source'], 'error') AS source
FROM otel_logs
WHERE EventName = 'exception' OR (EventName = '' AND mapContains(LogAttributes, 'exception.type'));

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_errors_from_span_events_mv TO rum_errors AS
WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), event_attributes) AS a
SELECT
    toDateTime64(event_time, 3) AS timestamp,
-- @include context_select
    if(a['browser.page.route'] != '', a['browser.page.route'], path(a['browser.page.url'])) AS route,
    a['exception.type'] AS type,
    a['exception.message'] AS message,
    a['exception.stacktrace'] AS stack,
    if(a['vitalsight.error.fingerprint'] != '', a['vitalsight.error.fingerprint'],
       lower(hex(cityHash64(type, replaceRegexpAll(message, '[0-9]+', '0'))))) AS fingerprint,
    'span_event' AS source
FROM otel_traces
ARRAY JOIN Events.Timestamp AS event_time, Events.Name AS event_name, Events.Attributes AS event_attributes
WHERE event_name = 'exception';

CREATE TABLE IF NOT EXISTS rum_requests (
-- @include context_columns
    url String CODEC(ZSTD(1)),
    url_template LowCardinality(String),
    method LowCardinality(String),
    status UInt16,
    duration_ms Float64,
    server_address LowCardinality(String),
    span_id String CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, timestamp)
SETTINGS ttl_only_drop_parts = 1;

-- fetch/XHR client spans, current (http.request.method, url.full) or older
-- (http.method, http.url) HTTP conventions. Without url.template, ids, uuids and
-- long hex hashes in the path collapse to :id, :uuid and :hash.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_mv TO rum_requests AS
WITH
    mapUpdate(ResourceAttributes, SpanAttributes) AS a,
    cutQueryStringAndFragment(if(a['url.full'] != '', a['url.full'], a['http.url'])) AS request_url,
    replaceRegexpAll(replaceRegexpAll(path(request_url),
        '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', ':uuid'),
        '/[0-9a-fA-F]{16,}(/|$)', '/:hash\\1') AS partly_templated
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
    if(a['browser.page.route'] != '', a['browser.page.route'], path(a['browser.page.url'])) AS route,
    request_url AS url,
    if(a['url.template'] != '', a['url.template'],
       replaceRegexpAll(replaceRegexpAll(partly_templated, '/[0-9]+(/|$)', '/:id\\1'), '/[0-9]+(/|$)', '/:id\\1')) AS url_template,
    upper(if(a['http.request.method'] != '', a['http.request.method'], a['http.method'])) AS method,
    toUInt16OrZero(if(a['http.response.status_code'] != '', a['http.response.status_code'], a['http.status_code'])) AS status,
    Duration / 1e6 AS duration_ms,
    if(a['server.address'] != '', a['server.address'], domain(request_url)) AS server_address,
    SpanId AS span_id
FROM otel_traces
WHERE SpanKind = 'SPAN_KIND_CLIENT'
  AND (mapContains(SpanAttributes, 'http.request.method') OR mapContains(SpanAttributes, 'http.method'));

CREATE TABLE IF NOT EXISTS rum_long_tasks (
-- @include context_columns
    kind LowCardinality(String),
    duration_ms Float64,
    blocking_ms Float64,
    script_url String CODEC(ZSTD(1)),
    invoker String CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, timestamp)
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_long_tasks_from_logs_mv TO rum_long_tasks AS
WITH mapUpdate(ResourceAttributes, LogAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
-- @include page_route_of_event
    if(a['browser.long_task.type'] != '', a['browser.long_task.type'], 'longtask') AS kind,
    toFloat64OrZero(a['browser.long_task.duration']) AS duration_ms,
    if(a['browser.long_task.blocking_duration'] != '',
       toFloat64OrZero(a['browser.long_task.blocking_duration']),
       greatest(duration_ms - 50, 0)) AS blocking_ms,
    a['browser.long_task.script_url'] AS script_url,
    a['browser.long_task.invoker'] AS invoker
FROM otel_logs
WHERE EventName = 'browser.long_task';

-- The official OpenTelemetry long-task instrumentation: `longtask` spans.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_long_tasks_from_spans_mv TO rum_long_tasks AS
WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
    if(a['browser.page.route'] != '', a['browser.page.route'], path(a['browser.page.url'])) AS route,
    'longtask' AS kind,
    Duration / 1e6 AS duration_ms,
    greatest(duration_ms - 50, 0) AS blocking_ms,
    a['longtask.attribution.container_src'] AS script_url,
    a['longtask.attribution.name'] AS invoker
FROM otel_traces
WHERE SpanName = 'longtask';

CREATE TABLE IF NOT EXISTS rum_resources (
-- @include context_columns
    url String CODEC(ZSTD(1)),
    initiator_type LowCardinality(String),
    transfer_size UInt64,
    encoded_size UInt64,
    decoded_size UInt64,
    duration_ms Float64,
    render_blocking LowCardinality(String)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (app, timestamp)
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_resources_from_logs_mv TO rum_resources AS
WITH mapUpdate(ResourceAttributes, LogAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
    multiIf(a['browser.page.route'] != '', a['browser.page.route'], a['url.path'] != '', a['url.path'], path(a['browser.page.url'])) AS route,
    cutQueryStringAndFragment(a['url.full']) AS url,
    a['browser.resource.initiator_type'] AS initiator_type,
    toUInt64OrZero(a['browser.resource.transfer_size']) AS transfer_size,
    toUInt64OrZero(a['browser.resource.encoded_body_size']) AS encoded_size,
    toUInt64OrZero(a['browser.resource.decoded_body_size']) AS decoded_size,
    toFloat64OrZero(a['browser.resource.duration']) AS duration_ms,
    a['browser.resource.render_blocking'] AS render_blocking
FROM otel_logs
WHERE EventName = 'browser.resource.timing';

-- The official OpenTelemetry document-load instrumentation: `resourceFetch` spans.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_resources_from_spans_mv TO rum_resources AS
WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
SELECT
    toDateTime64(Timestamp, 3) AS timestamp,
-- @include context_select
    if(a['browser.page.route'] != '', a['browser.page.route'], path(a['browser.page.url'])) AS route,
    cutQueryStringAndFragment(if(a['url.full'] != '', a['url.full'], a['http.url'])) AS url,
    '' AS initiator_type,
    toUInt64OrZero(a['http.response_content_length']) AS transfer_size,
    toUInt64OrZero(a['http.response_content_length']) AS encoded_size,
    -- the SDK leaves the uncompressed length out when it equals the encoded one
    if(a['http.response_content_length_uncompressed'] != '',
       toUInt64OrZero(a['http.response_content_length_uncompressed']), encoded_size) AS decoded_size,
    Duration / 1e6 AS duration_ms,
    '' AS render_blocking
FROM otel_traces
WHERE SpanName = 'resourceFetch';
