//! `--demo`: drives a few requests through the running service and summarises what observe
//! recorded, read back from the service's own `/metrics`.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::scrape::{Sample, Scrape};
use crate::vendor::{OFFERS_ROUTE, VENDORS};

const REQUESTS: &str = "http_server_request_duration_seconds";
/// The histogram of the `#[observe]`d vendor look-up (it has no `metric = …`, so it is
/// measured as `function_calls` with a `function` label). The latency is read from here, not
/// from the request histogram: that one keeps OpenTelemetry's HTTP buckets, which start at
/// 5 ms and so cannot tell apart requests that take a fraction of a millisecond.
const LOOKUPS: &str = "function_calls";
/// How long the vendor look-ups, which run after their requests answered, may take to be
/// recorded.
const LOOKUPS_WITHIN: Duration = Duration::from_secs(10);
/// The counter of the `#[observe]`d `POST /songs` handler, which carries its objective.
const CREATIONS: &str = "function_calls_total";

pub(crate) struct Summary {
    /// Requests the demo sent, counted by the demo.
    sent: u64,
    /// Requests the server recorded, other than the demo's scrapes of `/metrics`.
    served: u64,
    /// Of those, the ones to the vendor route: the service's calls to itself.
    vendor_calls: u64,
    server_errors: u64,
    lookup_p50_ms: f64,
    lookup_p99_ms: f64,
    objective: Objective,
    trace_id: String,
}

/// How the `POST /songs` calls of the demo fared against their success objective.
struct Objective {
    name: String,
    /// The target as its label writes it, e.g. `99`.
    percentile: String,
    calls: u64,
    errors: u64,
}

impl Objective {
    /// The share of calls that failed, over the share the objective allows to fail: 1 spends
    /// the error budget exactly in the rules' 30 days.
    fn burn_rate(&self) -> f64 {
        let allowed = 1.0 - self.percentile.parse::<f64>().unwrap_or(f64::NAN) / 100.0;
        self.errors as f64 / self.calls as f64 / allowed
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "requests sent by the demo: {}", self.sent)?;
        writeln!(f, "--- what observe recorded (from /metrics) ---")?;
        writeln!(
            f,
            "requests the server handled: {} ({} from the demo, {} vendor calls it made to itself); {} answered 5xx",
            self.served,
            self.served.saturating_sub(self.vendor_calls),
            self.vendor_calls,
            self.server_errors
        )?;
        writeln!(
            f,
            "vendor look-up latency (#[observe] histogram {LOOKUPS}_duration_seconds): p50 {:.3} ms  p99 {:.3} ms",
            self.lookup_p50_ms, self.lookup_p99_ms
        )?;
        let o = &self.objective;
        write!(
            f,
            "objective {} ({}% of POST /songs succeed): {} of {} failed",
            o.name, o.percentile, o.errors, o.calls
        )?;
        if o.calls > 0 {
            write!(
                f,
                ", burning the error budget {:.1}x as fast as allowed (see prometheus/README.md)",
                o.burn_rate()
            )?;
        }
        writeln!(f)?;
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

pub(crate) async fn drive(addr: SocketAddr) -> Result<Summary, Box<dyn std::error::Error>> {
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
    let (mut sent, mut created) = (0, 0);
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
        sent += 1;
        created += u64::from(status == http::StatusCode::CREATED);
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
        sent += 1;
    }

    // The vendor look-ups run after their requests answered: wait until all are recorded.
    let lookups = created * VENDORS.len() as u64;
    let deadline = Instant::now() + LOOKUPS_WITHIN;
    let scrape = loop {
        let (_, exposition) = send(
            &client,
            http::Method::GET,
            format!("{base}/metrics"),
            "",
            None,
        )
        .await?;
        let scrape = Scrape::parse(&exposition);
        if scrape.sum(&format!("{LOOKUPS}_total"), is_lookup) as u64 >= lookups {
            break scrape;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the {lookups} vendor look-ups were not all recorded within {LOOKUPS_WITHIN:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let count = format!("{REQUESTS}_count");
    let not_metrics = |s: &Sample| s.label("http_route") != Some("/metrics");
    Ok(Summary {
        sent,
        served: scrape.sum(&count, not_metrics) as u64,
        vendor_calls: scrape.sum(&count, |s| s.label("http_route") == Some(OFFERS_ROUTE)) as u64,
        server_errors: scrape.sum(&count, |s| {
            not_metrics(s)
                && s.label("http_response_status_code")
                    .is_some_and(|code| code.starts_with('5'))
        }) as u64,
        lookup_p50_ms: scrape.quantile(0.5, &format!("{LOOKUPS}_duration_seconds"), is_lookup)
            * 1e3,
        lookup_p99_ms: scrape.quantile(0.99, &format!("{LOOKUPS}_duration_seconds"), is_lookup)
            * 1e3,
        objective: objective(&scrape)?,
        trace_id,
    })
}

fn objective(scrape: &Scrape) -> Result<Objective, String> {
    let creation = |s: &Sample| s.label("function") == Some("create_song");
    let labelled = scrape.find(CREATIONS, creation).ok_or(format!(
        "no {CREATIONS}{{function=\"create_song\"}} in /metrics"
    ))?;
    let (Some(name), Some(percentile)) = (
        labelled.label("objective_name"),
        labelled.label("objective_percentile"),
    ) else {
        return Err(format!(
            "{CREATIONS}{{function=\"create_song\"}} carries no success objective"
        ));
    };
    Ok(Objective {
        name: name.to_owned(),
        percentile: percentile.to_owned(),
        calls: scrape.sum(CREATIONS, creation) as u64,
        errors: scrape.sum(CREATIONS, |s| {
            creation(s) && s.label("result") == Some("error")
        }) as u64,
    })
}

fn is_lookup(sample: &Sample) -> bool {
    sample.label("function") == Some("lookup")
}

/// A trace id for the demo's own `traceparent`: unique enough across runs.
fn fresh_trace_id() -> u128 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (nanos.as_nanos() << 16) ^ u128::from(std::process::id()) | 1
}
