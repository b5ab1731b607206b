//! What a real Prometheus (started with `--enable-feature=exemplar-storage`) stored as
//! exemplars when it scraped songs: `GET /api/v1/query_exemplars`, read back as the trace
//! and span ids each exemplar names.
//!
//! Prometheus reads exemplars only with its OpenMetrics parser (the text format 0.0.4 has
//! none), so an exemplar stored is also proof that it negotiated OpenMetrics with songs.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{http, url_encode};

/// One stored exemplar: the series it is on, and the ids it names.
#[derive(Debug)]
pub(crate) struct Stored {
    pub series: serde_json::Value,
    pub trace_id: String,
    pub span_id: String,
}

/// The exemplars Prometheus holds for `query` from the last `window` until now.
pub(crate) fn query_exemplars(
    prometheus: SocketAddr,
    query: &str,
    window: Duration,
) -> Vec<Stored> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let (start, end) = ((now - window).as_secs(), now.as_secs() + 1);
    let (status, body) = http(
        prometheus,
        "GET",
        &format!(
            "/api/v1/query_exemplars?query={}&start={start}&end={end}",
            url_encode(query)
        ),
        &[],
        "",
    );
    assert_eq!(status, 200, "query_exemplars {query}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "success", "{body}");
    let mut stored = Vec::new();
    for series in json["data"].as_array().cloned().unwrap_or_default() {
        for exemplar in series["exemplars"].as_array().cloned().unwrap_or_default() {
            let id = |key: &str| {
                exemplar["labels"][key]
                    .as_str()
                    .unwrap_or_else(|| panic!("an exemplar without {key}: {exemplar}"))
                    .to_owned()
            };
            stored.push(Stored {
                series: series["seriesLabels"].clone(),
                trace_id: id("trace_id"),
                span_id: id("span_id"),
            });
        }
    }
    stored
}
