//! `http_server_request_duration_seconds`: one histogram handle per (method, route, status),
//! looked up by borrowed values so a request after the first of its series allocates nothing.

use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, PoisonError, RwLock};

use hashbrown::{Equivalent, HashMap};
use metrics::{Histogram, Unit};

/// The name of the request duration histogram, after OpenTelemetry's
/// `http.server.request.duration` with Prometheus' unit suffix.
///
/// Its buckets are [`HTTP_BUCKETS`](crate::metrics::HTTP_BUCKETS), the list OpenTelemetry
/// recommends for this metric, whatever the buckets of `#[observe]` histograms are.
///
/// ```
/// assert_eq!(
///     observe_runtime::http::DURATION_METRIC,
///     "http_server_request_duration_seconds"
/// );
/// ```
pub const DURATION_METRIC: &str = crate::metrics::HTTP_DURATION_METRIC;

#[derive(Debug, PartialEq, Eq)]
struct Key {
    method: &'static str,
    route: Box<str>,
    status: Option<u16>,
}

/// A [`Key`] made of borrowed parts, for lookups.
#[derive(Clone, Copy)]
pub(crate) struct Series<'a> {
    pub(crate) method: &'static str,
    pub(crate) route: &'a str,
    pub(crate) status: Option<u16>,
}

impl Equivalent<Key> for Series<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.method == key.method && self.route == &*key.route && self.status == key.status
    }
}

// Hashed by hand so that `Key` and `Series` hash alike, which lookups by `Series` rely on.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Series {
            method: self.method,
            route: &self.route,
            status: self.status,
        }
        .hash(state);
    }
}

impl Hash for Series<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.method.hash(state);
        self.route.hash(state);
        self.status.hash(state);
    }
}

/// The handles of one [`ObserveLayer`](super::ObserveLayer) (shared by its services).
///
/// Handles bind to the `metrics` recorder in effect when their series is first seen (the
/// global one `init` installs, or a thread's local recorder), as `metrics::histogram!` does.
#[derive(Default)]
pub(crate) struct Durations {
    series: RwLock<HashMap<Key, Histogram>>,
    described: OnceLock<()>,
}

impl std::fmt::Debug for Durations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durations").finish_non_exhaustive()
    }
}

impl Durations {
    pub(crate) fn record(&self, series: Series<'_>, seconds: f64) {
        if let Some(histogram) = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&series)
        {
            histogram.record(seconds);
            return;
        }
        self.register(series).record(seconds);
    }

    #[cold]
    fn register(&self, series: Series<'_>) -> Histogram {
        self.described.get_or_init(|| {
            metrics::describe_histogram!(
                DURATION_METRIC,
                Unit::Seconds,
                "Duration of HTTP server requests."
            );
        });
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(Key {
            method: series.method,
            route: series.route.into(),
            status: series.status,
        })
        .or_insert_with(|| {
            metrics::histogram!(
                DURATION_METRIC,
                "http_request_method" => series.method,
                "http_route" => series.route.to_owned(),
                // No status: the request failed or was cancelled before a response existed.
                "http_response_status_code" => series.status.map_or_else(String::new, |s| s.to_string()),
            )
        })
        .clone()
    }
}
