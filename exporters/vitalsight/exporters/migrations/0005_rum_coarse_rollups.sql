-- Hourly and daily rollups for long ranges. A per-minute rollup keyed by all eight filter
-- dimensions barely aggregates (a month of LCP merges about as many t-digest states as there
-- are values), so these are keyed by few columns and hold the dimensions a panel groups by
-- as grouping sets: each fact row is counted once per `dimension` ('' = every row, 'route',
-- 'device', 'country'), with that dimension's value in `dimension_value`. A query reads one
-- dimension (`dimension = ''` for totals), so its states each aggregate thousands of values.
-- Panels read these only when the range is longer than 2 days and the filters they lack
-- (route, browser, device, country, network) are on "All"; see docs/ARCHITECTURE.md.
-- Measures and states are those of the per-minute rollups (same weighting, same t-digest).

CREATE TABLE IF NOT EXISTS rum_vitals_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    name LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64),
    value_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, name, dimension, hour, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_1h_mv TO rum_vitals_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(value, toUInt32(round(1 / sample_rate))) AS value_quantiles
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY hour, app, environment, release, name, dimension, dimension_value;

CREATE TABLE IF NOT EXISTS rum_vitals_1d (
    day DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    name LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64),
    value_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, name, dimension, day, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_1d_mv TO rum_vitals_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(value, toUInt32(round(1 / sample_rate))) AS value_quantiles
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY day, app, environment, release, name, dimension, dimension_value;

-- Requests: endpoint (url_template, method) as columns, route as the one grouping set.
CREATE TABLE IF NOT EXISTS rum_requests_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    url_template LowCardinality(String),
    method LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    errors SimpleAggregateFunction(sum, Float64),
    duration_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, dimension, hour, url_template, method, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1h_mv TO rum_requests_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(duration_ms, toUInt32(round(1 / sample_rate))) AS duration_quantiles
FROM rum_requests
ARRAY JOIN [('', ''), ('route', toString(route))] AS d
GROUP BY hour, app, environment, release, url_template, method, dimension, dimension_value;

CREATE TABLE IF NOT EXISTS rum_requests_1d (
    day DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    url_template LowCardinality(String),
    method LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    errors SimpleAggregateFunction(sum, Float64),
    duration_quantiles AggregateFunction(quantilesTDigestWeighted(0.5, 0.75, 0.95, 0.99), Float64, UInt32)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, dimension, day, url_template, method, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1d_mv TO rum_requests_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(duration_ms, toUInt32(round(1 / sample_rate))) AS duration_quantiles
FROM rum_requests
ARRAY JOIN [('', ''), ('route', toString(route))] AS d
GROUP BY day, app, environment, release, url_template, method, dimension, dimension_value;

-- Resource sizes per bundle: content hashes folded (`app.3f2a1c.js` → `app.js`) so releases
-- compare by name. Sizes are sums of kept rows (`samples`), unweighted like the raw panel.
CREATE TABLE IF NOT EXISTS rum_resources_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    initiator_type LowCardinality(String),
    resource LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    transfer_bytes SimpleAggregateFunction(sum, UInt64),
    encoded_bytes SimpleAggregateFunction(sum, UInt64),
    decoded_bytes SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, hour, environment, release, initiator_type, resource);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_resources_1h_mv TO rum_resources_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, initiator_type,
    replaceRegexpOne(path(url), '\\.[0-9a-f]{6,}\\.', '.') AS resource,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sum(transfer_size) AS transfer_bytes,
    sum(encoded_size) AS encoded_bytes,
    sum(decoded_size) AS decoded_bytes
FROM rum_resources
GROUP BY hour, app, environment, release, initiator_type, resource;
