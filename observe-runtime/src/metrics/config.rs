//! What a [`Metrics`](super::Metrics) exposition is built from, and how that can be wrong.

/// The default bucket bounds, in seconds, of every `#[observe]` duration histogram: 100 µs
/// to 10 s, six per decade (1, 1.5, 2.2, 3.2, 4.6, 6.8 × 10ⁿ), each at most 1.5 times the
/// one before. A quantile read from the histogram (`histogram_quantile`) then lands within
/// a factor of 1.5 of the true one, for calls of a fraction of a millisecond (a cache, a
/// local query) as for slow ones; coarser steps (1–2.5–5) put p99 up to 2.5 times off.
/// `+Inf` is added for you.
///
/// ```
/// use observe_runtime::metrics::{DEFAULT_BUCKETS, MetricsConfig};
///
/// assert_eq!(MetricsConfig::default().buckets, DEFAULT_BUCKETS);
/// assert_eq!(DEFAULT_BUCKETS.first(), Some(&0.0001));
/// assert_eq!(DEFAULT_BUCKETS.last(), Some(&10.0));
/// assert!(DEFAULT_BUCKETS.windows(2).all(|w| w[1] / w[0] <= 1.5 + 1e-9));
/// ```
pub const DEFAULT_BUCKETS: [f64; 31] = [
    0.0001, 0.00015, 0.00022, 0.00032, 0.00046, 0.00068, 0.001, 0.0015, 0.0022, 0.0032, 0.0046,
    0.0068, 0.01, 0.015, 0.022, 0.032, 0.046, 0.068, 0.1, 0.15, 0.22, 0.32, 0.46, 0.68, 1.0, 1.5,
    2.2, 3.2, 4.6, 6.8, 10.0,
];

/// The bucket bounds, in seconds, of `http_server_request_duration_seconds`: the ones
/// OpenTelemetry's HTTP semantic conventions recommend for `http.server.request.duration`.
///
/// ```
/// assert_eq!(observe_runtime::metrics::HTTP_BUCKETS.len(), 14);
/// ```
pub const HTTP_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The name of the HTTP server request duration histogram, after OpenTelemetry's
/// `http.server.request.duration` with Prometheus' unit suffix; it keeps [`HTTP_BUCKETS`].
///
/// ```
/// assert_eq!(
///     observe_runtime::metrics::HTTP_DURATION_METRIC,
///     "http_server_request_duration_seconds"
/// );
/// ```
pub const HTTP_DURATION_METRIC: &str = "http_server_request_duration_seconds";

/// The most label sets one metric may have before observations go to its overflow series.
///
/// ```
/// use observe_runtime::metrics::{DEFAULT_CARDINALITY_LIMIT, MetricsConfig};
///
/// assert_eq!(MetricsConfig::default().cardinality_limit, DEFAULT_CARDINALITY_LIMIT);
/// ```
pub const DEFAULT_CARDINALITY_LIMIT: usize = 1000;

use crate::config::ConfigError;

/// Settings of a [`Metrics`](super::Metrics) exposition.
///
/// ```
/// use observe_runtime::metrics::{Metrics, MetricsConfig};
///
/// let metrics = Metrics::new(MetricsConfig {
///     buckets: vec![0.1, 1.0, 10.0],
///     ..MetricsConfig::default()
/// })
/// .unwrap();
/// # drop(metrics);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    /// Upper bounds (`le`) of every `#[observe]` histogram's buckets, in seconds: finite,
    /// positive and strictly increasing. `+Inf` is always added.
    pub buckets: Vec<f64>,
    /// Label sets kept per metric (> 0); past it, observations go to one series labelled
    /// `otel_metric_overflow="true"`.
    pub cardinality_limit: usize,
}

impl Default for MetricsConfig {
    /// [`DEFAULT_BUCKETS`] and [`DEFAULT_CARDINALITY_LIMIT`].
    ///
    /// ```
    /// use observe_runtime::metrics::MetricsConfig;
    ///
    /// assert_eq!(MetricsConfig::default().cardinality_limit, 1000);
    /// ```
    fn default() -> Self {
        MetricsConfig {
            buckets: DEFAULT_BUCKETS.to_vec(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
        }
    }
}

impl MetricsConfig {
    /// Checks the buckets and the limit; the exporter would otherwise render the buckets as
    /// given, and Prometheus rejects histograms whose bounds repeat or go down.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        validate_buckets(&self.buckets).map_err(|problem| {
            ConfigError::code(
                "MetricsConfig::buckets",
                Some(format!("{:?}", self.buckets)),
                problem,
            )
        })?;
        if self.cardinality_limit == 0 {
            return Err(ConfigError::code(
                "MetricsConfig::cardinality_limit",
                Some("0".into()),
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// The rule every histogram's buckets follow, wherever they come from: at least one
/// bound, each finite and positive (seconds), strictly increasing. `+Inf` is added for you.
pub(crate) fn validate_buckets(buckets: &[f64]) -> Result<(), String> {
    if buckets.is_empty() {
        return Err("needs at least one bucket".into());
    }
    if let Some(b) = buckets.iter().find(|b| !b.is_finite() || **b <= 0.0) {
        return Err(format!(
            "bucket {b} is not a finite positive number of seconds (+Inf is added for you)"
        ));
    }
    if let Some(w) = buckets.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "buckets must be strictly increasing ({} then {})",
            w[0], w[1]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_checked() {
        assert_eq!(validate_buckets(&DEFAULT_BUCKETS), Ok(()));
        assert_eq!(validate_buckets(&HTTP_BUCKETS), Ok(()));
        for bad in [
            vec![],
            vec![1.0, f64::INFINITY],
            vec![1.0, 1.0],
            vec![2.0, 1.0],
            vec![0.0, 1.0],
            vec![-1.0],
            vec![f64::NAN],
        ] {
            assert!(validate_buckets(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_limit_of_zero_is_refused() {
        let config = MetricsConfig {
            cardinality_limit: 0,
            ..MetricsConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().variable(),
            "MetricsConfig::cardinality_limit"
        );
    }
}
