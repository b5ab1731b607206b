//! What a [`Metrics`](super::Metrics) exposition is built from, and how that can be wrong.

use std::fmt;

/// The default bucket bounds, in seconds, of every `#[observe]` duration histogram: 100 µs
/// to 10 s in 1–2.5–5 steps per decade, so that calls of a fraction of a millisecond (a
/// cache, a local query) are told apart as well as slow ones. `+Inf` is added for you.
///
/// ```
/// use observe_runtime::metrics::{DEFAULT_BUCKETS, MetricsConfig};
///
/// assert_eq!(MetricsConfig::default().buckets, DEFAULT_BUCKETS);
/// assert_eq!(DEFAULT_BUCKETS.first(), Some(&0.0001));
/// assert_eq!(DEFAULT_BUCKETS.last(), Some(&10.0));
/// ```
pub const DEFAULT_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
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
    /// Upper bounds (`le`) of every histogram's buckets, in seconds: finite and strictly
    /// increasing. `+Inf` is always added.
    pub buckets: Vec<f64>,
    /// Label sets kept per metric; past it, observations go to one series labelled
    /// `otel_metric_overflow="true"`. `0` sends everything there.
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
    /// Checks the buckets; the exporter would otherwise render them as given, and Prometheus
    /// rejects histograms whose bounds repeat or go down.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.buckets.is_empty() {
            return Err(ConfigError::NoBuckets);
        }
        if let Some(&bad) = self.buckets.iter().find(|b| !b.is_finite()) {
            return Err(ConfigError::BucketNotFinite(bad));
        }
        if let Some(pair) = self.buckets.windows(2).find(|pair| pair[0] >= pair[1]) {
            return Err(ConfigError::BucketsNotIncreasing(pair[0], pair[1]));
        }
        Ok(())
    }
}

/// A [`MetricsConfig`] that cannot be used.
///
/// ```
/// use observe_runtime::metrics::{ConfigError, Metrics, MetricsConfig};
///
/// let err = Metrics::new(MetricsConfig { buckets: vec![], ..Default::default() }).unwrap_err();
/// assert_eq!(err, ConfigError::NoBuckets);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `buckets` is empty.
    NoBuckets,
    /// A bucket bound is NaN or infinite (`+Inf` is added for you).
    BucketNotFinite(f64),
    /// Two neighbouring bounds are equal or decrease.
    BucketsNotIncreasing(f64, f64),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoBuckets => f.write_str("metrics buckets: at least one bucket is needed"),
            ConfigError::BucketNotFinite(b) => {
                write!(
                    f,
                    "metrics buckets: {b} is not a finite number (+Inf is added for you)"
                )
            }
            ConfigError::BucketsNotIncreasing(a, b) => {
                write!(
                    f,
                    "metrics buckets: must be strictly increasing, but {a} is followed by {b}"
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(buckets: Vec<f64>) -> Result<(), ConfigError> {
        MetricsConfig {
            buckets,
            ..MetricsConfig::default()
        }
        .validate()
    }

    #[test]
    fn buckets_are_checked() {
        assert_eq!(with(DEFAULT_BUCKETS.to_vec()), Ok(()));
        assert_eq!(with(vec![]), Err(ConfigError::NoBuckets));
        assert_eq!(
            with(vec![1.0, f64::INFINITY]),
            Err(ConfigError::BucketNotFinite(f64::INFINITY))
        );
        assert_eq!(
            with(vec![1.0, 1.0]),
            Err(ConfigError::BucketsNotIncreasing(1.0, 1.0))
        );
        assert_eq!(
            with(vec![2.0, 1.0]),
            Err(ConfigError::BucketsNotIncreasing(2.0, 1.0))
        );
    }
}
