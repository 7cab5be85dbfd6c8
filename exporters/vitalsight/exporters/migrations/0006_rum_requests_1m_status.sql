-- The per-minute requests rollup counts what the hourly and daily ones count: slow requests
-- (> 1000 ms) and status classes (0 = no answer). Raw facts are kept `retention.raw_days`,
-- the per-minute rollups `retention.rollup_days`: a panel whose range reaches past the
-- oldest raw fact, with a filter the coarse rollups lack (route, browser, device, country,
-- network), reads the older part from the per-minute rollups (`sql.rollup_source`), which
-- therefore need every measure a panel shows. Rows written before this migration hold 0.

ALTER TABLE rum_requests_1m
    ADD COLUMN IF NOT EXISTS slow SimpleAggregateFunction(sum, Float64) AFTER errors,
    ADD COLUMN IF NOT EXISTS status_failed SimpleAggregateFunction(sum, Float64) AFTER slow,
    ADD COLUMN IF NOT EXISTS status_2xx SimpleAggregateFunction(sum, Float64) AFTER status_failed,
    ADD COLUMN IF NOT EXISTS status_3xx SimpleAggregateFunction(sum, Float64) AFTER status_2xx,
    ADD COLUMN IF NOT EXISTS status_4xx SimpleAggregateFunction(sum, Float64) AFTER status_3xx,
    ADD COLUMN IF NOT EXISTS status_5xx SimpleAggregateFunction(sum, Float64) AFTER status_4xx;

DROP VIEW IF EXISTS rum_requests_1m_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_requests_1m_mv TO rum_requests_1m AS
SELECT
    toStartOfMinute(timestamp) AS minute,
    app, environment, release, route, device, browser, country, network, url_template, method,
    count() AS samples,
    sum(1 / sample_rate) AS weight,
    sumIf(1 / sample_rate, status >= 500 OR status = 0) AS errors,
    sumIf(1 / sample_rate, duration_ms > 1000) AS slow,
    sumIf(1 / sample_rate, status = 0) AS status_failed,
    sumIf(1 / sample_rate, status BETWEEN 200 AND 299) AS status_2xx,
    sumIf(1 / sample_rate, status BETWEEN 300 AND 399) AS status_3xx,
    sumIf(1 / sample_rate, status BETWEEN 400 AND 499) AS status_4xx,
    sumIf(1 / sample_rate, status >= 500) AS status_5xx,
    quantilesTDigestWeightedState(0.5, 0.75, 0.95, 0.99)(duration_ms, toUInt32(round(1 / sample_rate))) AS duration_quantiles
FROM rum_requests
GROUP BY minute, app, environment, release, route, device, browser, country, network, url_template, method;
