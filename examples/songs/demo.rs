//! `--demo`: drives a few requests through the running service and summarises what observe
//! recorded, read back from the service's own `/metrics`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const HISTOGRAM: &str = "http_server_request_duration_seconds";

pub struct Summary {
    requests: u64,
    errors: u64,
    p50_ms: f64,
    p99_ms: f64,
    trace_id: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- what observe recorded (from /metrics) ---")?;
        writeln!(
            f,
            "requests: {}  server errors: {}",
            self.requests, self.errors
        )?;
        writeln!(
            f,
            "latency p50: {:.3} ms  p99: {:.3} ms",
            self.p50_ms, self.p99_ms
        )?;
        write!(
            f,
            "trace to look up: {} (grep trace_id={} in the log lines)",
            self.trace_id, self.trace_id
        )
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn send(
    client: &HttpClient,
    method: http::Method,
    uri: String,
    body: &'static str,
    traceparent: Option<&str>,
) -> Result<(http::StatusCode, String), Box<dyn std::error::Error>> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from_static(body.as_bytes())))?)
        .await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

pub async fn drive(addr: SocketAddr) -> Result<Summary, Box<dyn std::error::Error>> {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let base = format!("http://{addr}");
    let trace_id = format!("{:032x}", fresh_trace_id());
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");

    let songs = [
        r#"{"title":"Blue","artist":"Joni Mitchell"}"#,
        r#"{"title":"Hejira","artist":"Joni Mitchell"}"#,
        r#"{"title":"Court and Spark","artist":"Joni Mitchell"}"#,
        r#"{"title":"crash","artist":"The Failures"}"#,
    ];
    for (i, song) in songs.iter().enumerate() {
        let parent = (i == 0).then_some(traceparent.as_str());
        let (status, body) = send(
            &client,
            http::Method::POST,
            format!("{base}/songs"),
            song,
            parent,
        )
        .await?;
        eprintln!("POST /songs {song} -> {status} {body}");
    }
    for id in [1, 2, 404] {
        let (status, _) = send(
            &client,
            http::Method::GET,
            format!("{base}/songs/{id}"),
            "",
            None,
        )
        .await?;
        eprintln!("GET /songs/{id} -> {status}");
    }
    // The vendor look-ups run after their requests answered.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (_, exposition) = send(
        &client,
        http::Method::GET,
        format!("{base}/metrics"),
        "",
        None,
    )
    .await?;
    let histogram = RequestHistogram::parse(&exposition);
    Ok(Summary {
        requests: histogram.count,
        errors: histogram.server_errors,
        p50_ms: histogram.quantile(0.5) * 1e3,
        p99_ms: histogram.quantile(0.99) * 1e3,
        trace_id,
    })
}

/// A trace id for the demo's own `traceparent`: unique enough across runs.
fn fresh_trace_id() -> u128 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (nanos.as_nanos() << 16) ^ u128::from(std::process::id()) | 1
}

/// The request-duration histogram summed over every route but `/metrics`.
struct RequestHistogram {
    /// Cumulative count per upper bound; `f64::INFINITY` holds the total.
    buckets: BTreeMap<u64, (f64, u64)>,
    count: u64,
    server_errors: u64,
}

impl RequestHistogram {
    fn parse(exposition: &str) -> Self {
        let mut histogram = RequestHistogram {
            buckets: BTreeMap::new(),
            count: 0,
            server_errors: 0,
        };
        for line in exposition.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let Some((name, labels)) = series.split_once('{') else {
                continue;
            };
            let labels = parse_labels(labels.trim_end_matches('}'));
            if labels.get("http_route").map(String::as_str) == Some("/metrics") {
                continue;
            }
            if name == format!("{HISTOGRAM}_bucket") {
                let bound: f64 = match labels.get("le").map(String::as_str) {
                    Some("+Inf") => f64::INFINITY,
                    Some(le) => le.parse().unwrap_or(f64::INFINITY),
                    None => continue,
                };
                let entry = histogram
                    .buckets
                    .entry(bound.to_bits())
                    .or_insert((bound, 0));
                entry.1 += value as u64;
            } else if name == format!("{HISTOGRAM}_count") {
                histogram.count += value as u64;
                if labels
                    .get("http_response_status_code")
                    .is_some_and(|code| code.starts_with('5'))
                {
                    histogram.server_errors += value as u64;
                }
            }
        }
        histogram
    }

    /// Prometheus's `histogram_quantile`: linear interpolation inside the bucket.
    fn quantile(&self, q: f64) -> f64 {
        let mut bounds: Vec<(f64, u64)> = self.buckets.values().copied().collect();
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let Some(&(_, total)) = bounds.last() else {
            return 0.0;
        };
        let rank = q * total as f64;
        let (mut lower, mut below) = (0.0, 0);
        for (upper, cumulative) in bounds {
            if cumulative as f64 >= rank && cumulative > below {
                if upper.is_infinite() {
                    return lower;
                }
                return lower
                    + (upper - lower) * (rank - below as f64) / (cumulative - below) as f64;
            }
            (lower, below) = (upper, cumulative);
        }
        lower
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(if escaped == 'n' { '\n' } else { escaped });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = &after[end..];
    }
    labels
}
