"""Detection: is this cohort's number different from its baselines, beyond noise?

One module per technique: percentile shifts (quantile asymptotics), error-rate spikes (exact
tests for counts), seasonal robust scores (median/MAD), change points (ruptures) and
multi-metric anomaly scores (scikit-learn).
"""
