-- Per-minute rollups of the fact tables, so a 30-day panel merges quantile states
-- instead of scanning raw rows. `weight` re-weights sampled rows (Σ 1 / sample_rate);
-- quantiles are weighted the same way.

CREATE TABLE IF NOT EXISTS rum_vitals_1m (
-- @include rollup_key_columns
    name LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64),
    value_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app, name, minute, environment, release, route, device, browser, country, network);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_1m_mv TO rum_vitals_1m AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    app, environment, release, route, device, browser, country, network, name,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(value, toUInt32(round(1 / sample_rate))) AS value_quantiles
FROM rum_vitals
GROUP BY minute, app, environment, release, route, device, browser, country, network, name;

CREATE TABLE IF NOT EXISTS rum_requests_1m (
-- @include rollup_key_columns
    url_template LowCardinality(String),
    method LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    errors SimpleAggregateFunction(sum, Float64),
    duration_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app, minute, url_template, method, environment, release, route, device, browser, country, network);

-- A request is an error when it failed (status 0: network error, CORS, abort) or the
-- server answered 5xx.
CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1m_mv TO rum_requests_1m AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    app, environment, release, route, device, browser, country, network, url_template, method,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(duration_ms, toUInt32(round(1 / sample_rate))) AS duration_quantiles
FROM rum_requests
GROUP BY minute, app, environment, release, route, device, browser, country, network, url_template, method;

CREATE TABLE IF NOT EXISTS rum_errors_1m (
-- @include rollup_key_columns
    fingerprint LowCardinality(String),
    type LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    sessions AggregateFunction(uniq, String),
    message SimpleAggregateFunction(any, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app, minute, fingerprint, type, environment, release, route, device, browser, country, network);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_errors_1m_mv TO rum_errors_1m AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    app, environment, release, route, device, browser, country, network, fingerprint, type,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    uniqState(session_id) AS sessions,
    any(message) AS message
FROM rum_errors
GROUP BY minute, app, environment, release, route, device, browser, country, network, fingerprint, type;

CREATE TABLE IF NOT EXISTS rum_page_views_1m (
-- @include rollup_key_columns
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    sessions AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app, minute, environment, release, route, device, browser, country, network);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_page_views_1m_mv TO rum_page_views_1m AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    app, environment, release, route, device, browser, country, network,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    uniqState(session_id) AS sessions
FROM rum_page_views
GROUP BY minute, app, environment, release, route, device, browser, country, network;
