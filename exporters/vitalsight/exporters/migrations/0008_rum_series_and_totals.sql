-- Rollups for time series and for "the N busiest" on long ranges (see docs/ARCHITECTURE.md).
--
-- Series (`*_series_1h`): an hourly series of a month reads every hourly bucket row of its
-- key (a p75 LCP by country: 2.2M rows of rum_vitals_1h), and the cost is per row. These
-- hold the same keys, grouping sets and measures as rum_vitals_1h / rum_requests_1h with
-- 5%-wide buckets (`bucket` = round(log_1.05(value)), -32768 for values <= 0), about half
-- the rows, and `value_sum` (the weighted sum of the bucket's values): a panel reads each
-- row's value as `value_sum / weight`, the weighted mean of the values in it, which is
-- closer to them than the bucket's centre.
--
-- Totals (`*_totals_1d`): per day and key, the weighted count without buckets, so ranking
-- routes, countries or endpoints by traffic reads a few thousand rows instead of a month of
-- histograms.

CREATE TABLE IF NOT EXISTS rum_vitals_series_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    name LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    bucket Int16,
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    value_sum SimpleAggregateFunction(sum, Float64),
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, name, dimension, hour, environment, release, dimension_value, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_series_1h_mv TO rum_vitals_series_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(value > 0, greatest(-32767, least(32767, round(log(value) / log(1.05)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sum(value / sample_rate) AS value_sum,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY hour, app, environment, release, name, dimension, dimension_value, bucket;

CREATE TABLE IF NOT EXISTS rum_requests_series_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    url_template LowCardinality(String),
    method LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    bucket Int16,
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    value_sum SimpleAggregateFunction(sum, Float64),
    errors SimpleAggregateFunction(sum, Float64),
    slow SimpleAggregateFunction(sum, Float64),
    status_failed SimpleAggregateFunction(sum, Float64),
    status_2xx SimpleAggregateFunction(sum, Float64),
    status_3xx SimpleAggregateFunction(sum, Float64),
    status_4xx SimpleAggregateFunction(sum, Float64),
    status_5xx SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, dimension, hour, url_template, method, environment, release, dimension_value, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_series_1h_mv TO rum_requests_series_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(duration_ms > 0, greatest(-32767, least(32767, round(log(duration_ms) / log(1.05)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sum(duration_ms / sample_rate) AS value_sum,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    sumIf(1 / sample_rate, duration_ms > 1000) AS slow,
    sumIf(1 / sample_rate, status = 0) AS status_failed,
    sumIf(1 / sample_rate, status BETWEEN 200 AND 299) AS status_2xx,
    sumIf(1 / sample_rate, status BETWEEN 300 AND 399) AS status_3xx,
    sumIf(1 / sample_rate, status BETWEEN 400 AND 499) AS status_4xx,
    sumIf(1 / sample_rate, status >= 500) AS status_5xx
FROM rum_requests
ARRAY JOIN [('', ''), ('route', toString(route))] AS d
GROUP BY hour, app, environment, release, url_template, method, dimension, dimension_value, bucket;

CREATE TABLE IF NOT EXISTS rum_vitals_totals_1d (
    day DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    name LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, name, dimension, day, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_totals_1d_mv TO rum_vitals_totals_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY day, app, environment, release, name, dimension, dimension_value;

CREATE TABLE IF NOT EXISTS rum_requests_totals_1d (
    day DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    url_template LowCardinality(String),
    method LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, dimension, day, url_template, method, environment, release, dimension_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_totals_1d_mv TO rum_requests_totals_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    count() AS samples,
    sum(1 / sample_rate) AS weight
FROM rum_requests
ARRAY JOIN [('', ''), ('route', toString(route))] AS d
GROUP BY day, app, environment, release, url_template, method, dimension, dimension_value;
