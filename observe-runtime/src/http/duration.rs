//! `http_server_request_duration_seconds`, with a cached histogram handle per label set.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use metrics::Histogram;

/// The metric name, per the stable OpenTelemetry HTTP semantic conventions.
pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";

/// Handles by (method, status), then by route: the route is looked up as `&str`, so a
/// label set seen before costs no allocation and no recorder lookup.
#[derive(Default)]
pub(crate) struct RequestDurations {
    handles: RwLock<HashMap<(&'static str, u16), ByRoute>>,
}

type ByRoute = HashMap<String, Histogram>;

impl RequestDurations {
    pub(crate) fn record(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        {
            let handles = self.handles.read().unwrap_or_else(|e| e.into_inner());
            if let Some(histogram) = handles
                .get(&(method, status))
                .and_then(|routes| routes.get(route))
            {
                histogram.record(seconds);
                return;
            }
        }
        static DESCRIBED: std::sync::Once = std::sync::Once::new();
        DESCRIBED.call_once(|| {
            metrics::describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "Duration of HTTP server requests, by method, route and status code."
            );
        });
        let histogram = metrics::histogram!(
            REQUEST_DURATION,
            "http_request_method" => method,
            "http_route" => route.to_owned(),
            "http_response_status_code" => status.to_string(),
        );
        histogram.record(seconds);
        let mut handles = self.handles.write().unwrap_or_else(|e| e.into_inner());
        handles
            .entry((method, status))
            .or_default()
            .insert(route.to_owned(), histogram);
    }
}
