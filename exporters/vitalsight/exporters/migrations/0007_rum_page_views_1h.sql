-- Hourly page views by route, for long ranges: the per-minute rollup is keyed by all eight
-- filter dimensions, so a month of it is about as many rows as page views (the Routes table
-- read two months of it for the volume and its trend). Keyed by the filters the per-minute
-- rollup shares with the coarse vitals and requests rollups, plus route; panels read it
-- only when the range is longer than 2 days and browser, device, country and network are on
-- "All" (`sql.page_views_source`), else the per-minute rollup.

CREATE TABLE IF NOT EXISTS rum_page_views_1h (
    hour DateTime,
    app LowCardinality(String),
    environment LowCardinality(String),
    release LowCardinality(String),
    route LowCardinality(String),
    samples SimpleAggregateFunction(sum, UInt64),
    weight SimpleAggregateFunction(sum, Float64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app, hour, environment, release, route);

CREATE MATERIALIZED VIEW IF NOT EXISTS rum_page_views_1h_mv TO rum_page_views_1h AS
SELECT
    toStartOfHour(timestamp) AS hour,
    app, environment, release, route,
    count() AS samples,
    sum(1 / sample_rate) AS weight
FROM rum_page_views
GROUP BY hour, app, environment, release, route;
