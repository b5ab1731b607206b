//! Every signal pushed to a real OTLP receiver: songs with `OTEL_METRICS_EXPORTER=
//! prometheus,otlp`, `OTEL_LOGS_EXPORTER=otlp` and traces, once over gRPC in plaintext and
//! once over HTTP/protobuf with TLS (the receiver's test CA as
//! `OTEL_EXPORTER_OTLP_CERTIFICATE`).
//!
//! Once the traffic has stopped and every look-up it spawned is recorded, `/metrics` and the
//! next pushes hold the same values: cumulative counters and histograms stop moving with
//! the traffic. Then, after the shutdown flush: every log record is a stdout line, and every
//! exemplar names a span the receiver got.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use observe_testkit::otlp::{
    MetricKind, ReceivedDataPoint, ReceivedExemplar, ReceivedLogRecord, Receiver, TlsMode,
    Transport, Value, flatten_metrics,
};

use crate::exposition::{self, Exemplar, Histogram, Labels, Sample, Series};
use crate::support::{Line, Running, Scratch, free_addr, http, log_lines, songs, wait_until};
use crate::traffic;

/// Short, so that the pushes after the scrape come quickly.
const PUSH_INTERVAL_MS: &str = "200";

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn every_signal_reaches_the_receiver_over_grpc_in_plaintext() {
    every_signal(Transport::Grpc, TlsMode::Plaintext);
}

#[test]
#[ignore = "run by scripts/e2e.sh: needs the built example"]
fn every_signal_reaches_the_receiver_over_http_protobuf_with_tls() {
    every_signal(Transport::HttpProtobuf, TlsMode::Tls);
}

fn every_signal(transport: Transport, tls: TlsMode) {
    let scenario = format!("{transport:?} {tls:?}");
    let scratch = Scratch::new(match tls {
        TlsMode::Plaintext => "signals-plaintext",
        _ => "signals-tls",
    });
    let (log_path, log_file) = scratch.file("stdout.log");
    let receiver = Receiver::builder(transport)
        .tls(tls)
        .start()
        .expect("an OTLP receiver on 127.0.0.1");

    let app = free_addr();
    let mut command = songs();
    command
        .args(["--addr", &app.to_string()])
        .env("OTEL_SERVICE_NAME", "songs")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env(
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            match transport {
                Transport::Grpc => "grpc",
                Transport::HttpProtobuf => "http/protobuf",
            },
        )
        .env("OTEL_METRICS_EXPORTER", "prometheus,otlp")
        .env("OTEL_METRIC_EXPORT_INTERVAL", PUSH_INTERVAL_MS)
        .env("OTEL_LOGS_EXPORTER", "otlp")
        .stdout(log_file)
        .stderr(Stdio::inherit());
    if let Some(files) = receiver.tls_files() {
        command.env("OTEL_EXPORTER_OTLP_CERTIFICATE", files.ca_certificate());
    }
    let mut service = Running::spawn("songs", &mut command);
    wait_until("songs to listen", Duration::from_secs(30), || {
        TcpStream::connect(app).ok()
    });

    traffic::mixed(app);

    // The scrape: once it shows every request and look-up, nothing but `/metrics` moves.
    let (scrape, scraped_at) = wait_until(
        "/metrics to show all the traffic",
        Duration::from_secs(30),
        || {
            let scrape = scrape_openmetrics(app);
            let scraped_at = SystemTime::now();
            all_traffic_recorded(&scrape).then_some((scrape, scraped_at))
        },
    );
    let push = push_measured_after(&receiver, scraped_at);
    let (counters, histograms) = compare(&scrape, &push);
    eprintln!(
        "REPORT {scenario}: /metrics and the push measured after it agree on {counters} counter \
         and {histograms} histogram series (bounds, bucket counts, sums, exemplars)"
    );

    let status = service.terminate(Duration::from_secs(20));
    assert!(status.success(), "songs exited with {status}");

    let lines = log_lines(&log_path);
    let records = receiver.log_records();
    records_are_lines(&scenario, &records, &lines);

    let spans = receiver.spans();
    let span_ids: std::collections::BTreeSet<(&str, &str)> = spans
        .iter()
        .map(|s| (s.trace_id.as_str(), s.span_id.as_str()))
        .collect();
    let exemplars: Vec<(String, ReceivedExemplar)> = receiver
        .metrics_requests()
        .iter()
        .flat_map(|r| flatten_metrics(&r.request))
        .flat_map(|p| p.exemplars.into_iter().map(move |e| (p.name.clone(), e)))
        .collect();
    assert!(!exemplars.is_empty(), "the pushes carry exemplars");
    for (metric, exemplar) in &exemplars {
        assert!(
            span_ids.contains(&(exemplar.trace_id.as_str(), exemplar.span_id.as_str())),
            "{scenario}: an exemplar of {metric} names no span the receiver got: {exemplar:?}"
        );
    }
    eprintln!(
        "REPORT {scenario}: {} exemplars over {} pushes, each naming one of the {} spans received",
        exemplars.len(),
        receiver.metrics_requests().len(),
        spans.len()
    );
}

fn scrape_openmetrics(app: SocketAddr) -> Vec<Sample> {
    let (status, text) = http(
        app,
        "GET",
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
        "",
    );
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("# EOF\n"), "not OpenMetrics:\n{text}");
    exposition::samples(&text)
}

/// Whether the scrape counts every request of the traffic and every look-up it spawned
/// (they run after their request answered).
fn all_traffic_recorded(scrape: &[Sample]) -> bool {
    let count = |keep: &dyn Fn(&Sample) -> bool| -> u64 {
        scrape
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.value as u64)
            .sum()
    };
    traffic::REQUESTS
        .iter()
        .all(|(route, method, status, expected)| {
            count(&|s| {
                s.name == "http_server_request_duration_seconds_count"
                    && s.labels["http_route"] == *route
                    && s.labels["http_request_method"] == *method
                    && s.labels["http_response_status_code"] == *status
            }) == *expected
        })
        && count(&|s| {
            s.name == "function_calls_total"
                && s.labels.get("function").map(String::as_str) == Some("lookup")
        }) == traffic::LOOKUPS
}

/// The points of the second push measured after `scraped_at`. The first may have read the
/// registry a moment before the scrape did (it takes its timestamp after reading); the push
/// thread reads again only after that timestamp, so the second read after the scrape.
fn push_measured_after(receiver: &Receiver, scraped_at: SystemTime) -> Vec<ReceivedDataPoint> {
    let after = scraped_at.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut pushes = Vec::new();
    let arrived = receiver.wait_until(Duration::from_secs(10), |r| {
        pushes = r
            .metrics_requests()
            .iter()
            .map(|request| flatten_metrics(&request.request))
            .filter(|points| points.first().is_some_and(|p| p.time_unix_nano > after))
            .collect();
        pushes.len() >= 2
    });
    assert!(
        arrived,
        "no second push measured after the scrape within 10 s ({} metrics requests in all)",
        receiver.metrics_requests().len()
    );
    pushes.swap_remove(1)
}

/// Whether a series moves by itself, traffic or not: the process's own figures (CPU time,
/// memory), and the `/metrics` route, whose every scrape counts itself.
fn moves_by_itself(name: &str, labels: &Labels) -> bool {
    name.starts_with("process_") || labels.get("http_route").map(String::as_str) == Some("/metrics")
}

fn attributes(point: &ReceivedDataPoint) -> Labels {
    point
        .attributes
        .iter()
        .map(|(k, v)| {
            let Value::String(text) = v else {
                panic!("{}: attribute {k} is not a string: {v:?}", point.name)
            };
            (k.clone(), text.clone())
        })
        .collect()
}

/// An exemplar as the exposition writes it: its ids as labels, its value.
fn as_exposed(exemplar: &ReceivedExemplar) -> Exemplar {
    Exemplar {
        labels: [
            ("trace_id".to_owned(), exemplar.trace_id.clone()),
            ("span_id".to_owned(), exemplar.span_id.clone()),
        ]
        .into(),
        value: exemplar.value.expect("an exemplar value").as_f64(),
    }
}

/// Asserts that the scrape's counters and histograms equal the push's, series by series;
/// returns how many of each it compared. Values are compared exactly: both are the same
/// `f64`, written by the exposition in Rust's shortest form that reads back to it.
fn compare(scrape: &[Sample], push: &[ReceivedDataPoint]) -> (usize, usize) {
    let mut scraped_counters = exposition::counters(scrape);
    scraped_counters.retain(|(name, labels), _| !moves_by_itself(name, labels));
    let mut scraped_histograms = exposition::histograms(scrape);
    scraped_histograms.retain(|(name, labels), _| !moves_by_itself(name, labels));

    let mut pushed_counters = BTreeMap::new();
    let mut pushed_histograms: BTreeMap<Series, Histogram> = BTreeMap::new();
    for point in push {
        let series = (point.name.clone(), attributes(point));
        if moves_by_itself(&series.0, &series.1) {
            continue;
        }
        match point.kind {
            MetricKind::Sum if point.monotonic => {
                let value = point.value.expect("a sum has a value").as_f64();
                let exemplar = match point.exemplars.as_slice() {
                    [] => None,
                    [one] => Some(as_exposed(one)),
                    more => panic!("{series:?}: a counter with {} exemplars", more.len()),
                };
                pushed_counters.insert(series, (value, exemplar));
            }
            MetricKind::Histogram => {
                let (infinite, finite) = point
                    .bucket_counts
                    .split_last()
                    .expect("a histogram has buckets");
                let cumulative: Vec<u64> = finite
                    .iter()
                    .scan(0, |total, n| {
                        *total += n;
                        Some(*total)
                    })
                    .collect();
                let count = cumulative.last().copied().unwrap_or(0) + infinite;
                assert_eq!(
                    count, point.count,
                    "{series:?}: buckets add up to the count"
                );
                pushed_histograms.insert(
                    series,
                    Histogram {
                        bounds: point.bucket_bounds.clone(),
                        cumulative,
                        count,
                        sum: point.sum.expect("a histogram sum"),
                        exemplars: point.exemplars.iter().map(as_exposed).collect(),
                    },
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        scraped_counters.keys().collect::<Vec<_>>(),
        pushed_counters.keys().collect::<Vec<_>>(),
        "the same counter series"
    );
    for (series, scraped) in &scraped_counters {
        assert_eq!(
            scraped, &pushed_counters[series],
            "{series:?}: /metrics vs push"
        );
    }
    assert_eq!(
        scraped_histograms.keys().collect::<Vec<_>>(),
        pushed_histograms.keys().collect::<Vec<_>>(),
        "the same histogram series"
    );
    for (series, scraped) in &scraped_histograms {
        assert_eq!(
            scraped, &pushed_histograms[series],
            "{series:?}: /metrics vs push"
        );
    }
    // Every call is sampled (`parentbased_always_on`, and the caller's flags say sampled):
    // each counter of an `#[observe]` metric carries the exemplar of a recent call.
    for ((name, _), (value, exemplar)) in &scraped_counters {
        if *value > 0.0 && ["db_event_total", "function_calls_total"].contains(&name.as_str()) {
            assert!(exemplar.is_some(), "{name} has no exemplar");
        }
    }
    (scraped_counters.len(), scraped_histograms.len())
}

/// What identifies a line or a record: trace id, span id, and the span event or message.
type Key = (String, String, String);

fn line_key(line: &Line) -> Key {
    let what = line
        .get("span_event")
        .or_else(|| line.get("msg"))
        .unwrap_or_default();
    (
        line.get("trace_id").unwrap_or_default().to_owned(),
        line.get("span").unwrap_or_default().to_owned(),
        what.to_owned(),
    )
}

fn record_key(record: &ReceivedLogRecord) -> Key {
    let what = match record.attributes.get("span_event") {
        Some(Value::String(event)) => event.clone(),
        _ => record.body.to_string(),
    };
    (record.trace_id.clone(), record.span_id.clone(), what)
}

/// The records are the stdout lines, one for one: the same trace id, span id, and span
/// event or message.
fn records_are_lines(scenario: &str, records: &[ReceivedLogRecord], lines: &[Line]) {
    let mut unmatched: BTreeMap<Key, i64> = BTreeMap::new();
    for line in lines {
        *unmatched.entry(line_key(line)).or_default() += 1;
    }
    for record in records {
        assert!(
            !record.trace_id.is_empty() || record.span_id.is_empty(),
            "a record with a span id but no trace id: {record:?}"
        );
        *unmatched.entry(record_key(record)).or_default() -= 1;
    }
    unmatched.retain(|_, n| *n != 0);
    let in_traces = records.iter().filter(|r| !r.trace_id.is_empty()).count();
    eprintln!(
        "REPORT {scenario}: {} log records ({in_traces} in a trace), {} stdout lines",
        records.len(),
        lines.len()
    );
    // Nothing is lost on the way (the queue holds 2048 records; the shutdown flushes it),
    // so the two match exactly.
    assert!(
        unmatched.is_empty(),
        "{scenario}: lines and records that do not match (+n: lines only, -n: records only): \
         {unmatched:#?}"
    );
}
