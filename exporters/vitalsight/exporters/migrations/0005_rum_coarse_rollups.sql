-- Hourly and daily rollups for long ranges. A per-minute rollup keyed by all eight filter
-- dimensions barely aggregates (a month of LCP merges about as many t-digest states as there
-- are values), and merging quantile states (t-digest or bfloat16) costs far more per value
-- than aggregating plain rows. So these hold histograms as rows: the value's 2%-wide log
-- bucket is part of the key (`bucket` = round(log_1.02(value)), -32768 for values <= 0),
-- with weighted counts per bucket; a percentile is a weighted quantile over the bucket
-- centres (1.02^bucket, within 1% of the value). The dimensions a panel groups by are
-- grouping sets: each fact row is counted once per `dimension` ('' = every row, 'route',
-- 'device', 'country'), with that dimension's value in `dimension_value`; a query reads one.
-- Panels read these only when the range is longer than 2 days and the filters they lack
-- (route, browser, device, country, network) are on "All"; see docs/ARCHITECTURE.md.

CREATE TABLE IF NOT EXISTS rum_vitals_1h (
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
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, name, dimension, hour, environment, release, dimension_value, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_1h_mv TO rum_vitals_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(value > 0, greatest(-32767, least(32767, round(log(value) / log(1.02)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY hour, app, environment, release, name, dimension, dimension_value, bucket;

CREATE TABLE IF NOT EXISTS rum_vitals_1d (
    day DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    name LowCardinality(String),
    dimension LowCardinality(String),
    dimension_value LowCardinality(String),
    bucket Int16,
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64),
    good SimpleAggregateFunction(sum, Float64),
    needs_improvement SimpleAggregateFunction(sum, Float64),
    poor SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, name, dimension, day, environment, release, dimension_value, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_vitals_1d_mv TO rum_vitals_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, name,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(value > 0, greatest(-32767, least(32767, round(log(value) / log(1.02)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, rating = 'good') AS good,
    sumIf(1 / sample_rate, rating = 'needs-improvement') AS needs_improvement,
    sumIf(1 / sample_rate, rating = 'poor') AS poor
FROM rum_vitals
ARRAY JOIN [('', ''), ('route', toString(route)), ('device', toString(device)), ('country', toString(country))] AS d
GROUP BY day, app, environment, release, name, dimension, dimension_value, bucket;

-- Requests: endpoint (url_template, method) as columns, route as the one grouping set; also
-- weighted counts of slow requests (> 1000 ms, the overview's slow-API threshold) and of
-- status classes (0 = no answer), which the per-minute rollup lacks.
CREATE TABLE IF NOT EXISTS rum_requests_1h (
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

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1h_mv TO rum_requests_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(duration_ms > 0, greatest(-32767, least(32767, round(log(duration_ms) / log(1.02)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
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

CREATE TABLE IF NOT EXISTS rum_requests_1d (
    day DateTime,
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
    errors SimpleAggregateFunction(sum, Float64),
    slow SimpleAggregateFunction(sum, Float64),
    status_failed SimpleAggregateFunction(sum, Float64),
    status_2xx SimpleAggregateFunction(sum, Float64),
    status_3xx SimpleAggregateFunction(sum, Float64),
    status_4xx SimpleAggregateFunction(sum, Float64),
    status_5xx SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app, dimension, day, url_template, method, environment, release, dimension_value, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1d_mv TO rum_requests_1d AS
SELECT
    toStartOfDay(timestamp) AS day,
    app, environment, release, url_template, method,
    d.1 AS dimension, d.2 AS dimension_value,
    toInt16(if(duration_ms > 0, greatest(-32767, least(32767, round(log(duration_ms) / log(1.02)))), -32768)) AS bucket,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    sumIf(1 / sample_rate, duration_ms > 1000) AS slow,
    sumIf(1 / sample_rate, status = 0) AS status_failed,
    sumIf(1 / sample_rate, status BETWEEN 200 AND 299) AS status_2xx,
    sumIf(1 / sample_rate, status BETWEEN 300 AND 399) AS status_3xx,
    sumIf(1 / sample_rate, status BETWEEN 400 AND 499) AS status_4xx,
    sumIf(1 / sample_rate, status >= 500) AS status_5xx
FROM rum_requests
ARRAY JOIN [('', ''), ('route', toString(route))] AS d
GROUP BY day, app, environment, release, url_template, method, dimension, dimension_value, bucket;

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
