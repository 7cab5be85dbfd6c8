-- Incident cards from the insight service. The service sends each card state as an OTLP
-- log record (event `vitalsight.insight`) through the receiver like any other producer, so
-- the one write path serves both stores; this view turns those records into rows.
-- One row per card state; ReplacingMergeTree keeps the latest per id (read with FINAL).

CREATE TABLE IF NOT EXISTS rum_insights (
    id String,
    updated_at DateTime64(3),
    opened_at DateTime64(3),
    resolved_at Nullable(DateTime64(3)),
    status LowCardinality(String),
    app LowCardinality(String),
    environment LowCardinality(String),
    kind LowCardinality(String),
    metric LowCardinality(String),
    statistic LowCardinality(String),
    route LowCardinality(String),
    release LowCardinality(String),
    baseline_release LowCardinality(String),
    scope Map(LowCardinality(String), String),
    baseline_value Float64,
    current_value Float64,
    change_pct Float64,
    unit LowCardinality(String),
    cause_kind LowCardinality(String),
    cause String,
    evidence String CODEC(ZSTD(1)),
    confidence Float32,
    confidence_label LowCardinality(String),
    summary String CODEC(ZSTD(1)),
    summary_source LowCardinality(String),
    suggested_fix String CODEC(ZSTD(1)),
    dashboard_url String
) ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(opened_at)
ORDER BY (app, id);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_insights_mv TO rum_insights AS
WITH
    LogAttributes AS a,
    (name) -> a[concat('vitalsight.insight.', name)] AS f,
    (name) -> parseDateTime64BestEffortOrZero(f(name), 3) AS at
SELECT
    f('id') AS id,
    toDateTime64(Timestamp, 3) AS updated_at,
    at('opened_at') AS opened_at,
    if(f('resolved_at') != '', at('resolved_at'), NULL) AS resolved_at,
    f('status') AS status,
    f('app') AS app,
    f('environment') AS environment,
    f('kind') AS kind,
    f('metric') AS metric,
    f('statistic') AS statistic,
    f('route') AS route,
    f('release') AS release,
    f('baseline_release') AS baseline_release,
    mapApply((k, v) -> (substring(k, 26), v),
        mapFilter((k, v) -> startsWith(k, 'vitalsight.insight.scope.'), a)) AS scope,
    toFloat64OrZero(f('baseline_value')) AS baseline_value,
    toFloat64OrZero(f('current_value')) AS current_value,
    toFloat64OrZero(f('change_pct')) AS change_pct,
    f('unit') AS unit,
    f('cause_kind') AS cause_kind,
    f('cause') AS cause,
    f('evidence') AS evidence,
    toFloat32OrZero(f('confidence')) AS confidence,
    f('confidence_label') AS confidence_label,
    f('summary') AS summary,
    f('summary_source') AS summary_source,
    f('suggested_fix') AS suggested_fix,
    f('dashboard_url') AS dashboard_url
FROM otel_logs
WHERE EventName = 'vitalsight.insight';
