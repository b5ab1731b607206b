//! The OpenMetrics exposition: valid to the reference parser (the Prometheus Python
//! client's), the same series as the text format 0.0.4, and exemplars that name the trace
//! and span of a recent sampled call in each bucket. Served at `/metrics` to a scraper that
//! asks for it.

mod metrics_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use metrics_support::{Stack, dispatch, metrics};
use observe_runtime::metrics::{Metrics, MetricsConfig};
use observe_runtime::propagation::TraceContext;
use observe_testkit::openmetrics::parse_strict;

/// Records calls of two label sets, one failed, and returns the registry with the trace
/// ids of the calls.
fn recorded() -> (Metrics, Vec<String>) {
    let metrics = metrics(MetricsConfig::default());
    let (dispatch, _) = dispatch(&metrics, Stack::WithLogs);
    let mut traces = Vec::new();
    tracing::dispatcher::with_default(&dispatch, || {
        for (table, failed) in [("events", false), ("songs", false), ("songs", true)] {
            let span = tracing::info_span!(
                "save",
                metric_name = "db_event",
                metric_label_table = table,
                observe.result = tracing::field::Empty
            );
            let cx = span.in_scope(TraceContext::current).expect("a record");
            traces.push(cx.trace_id().to_string());
            if failed {
                span.record("observe.result", "error");
            }
        }
        // Unsampled calls are never exemplars.
        let unsampled = TraceContext::from_w3c(
            ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"],
            [] as [&str; 0],
        )
        .unwrap();
        unsampled.in_scope(|| drop(tracing::info_span!("save", metric_name = "unsampled")));
    });
    (metrics, traces)
}

#[test]
fn the_exposition_is_strict_openmetrics_with_exemplars_on_buckets_and_counters() {
    let (metrics, traces) = recorded();
    // The process and application metrics go through the exporter; its text is read back
    // for OpenMetrics, so it must come out strict too.
    metrics.add_process_collector();
    metrics.add_collector(|| {
        metrics::counter!("orders_total", "shop" => "a \"quoted\" shop").absolute(3);
        metrics::counter!("retries").absolute(1);
        metrics::gauge!("queue_depth").set(2.5);
        metrics::histogram!("payment_seconds").record(0.02);
    });
    let text = metrics.render_openmetrics();
    parse_strict(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    assert!(text.contains("# TYPE db_event counter\n"), "{text}");
    assert!(
        text.contains("# TYPE db_event_duration_seconds histogram\n"),
        "{text}"
    );
    assert!(
        text.contains("# UNIT db_event_duration_seconds seconds\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));

    let exemplars: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            line.split_once(" # {trace_id=\"")
                .map(|(_, rest)| &rest[..32])
        })
        .collect();
    for (line_start, trace) in [
        (
            r#"db_event_total{table="events",result="ok"} 1 "#,
            &traces[0],
        ),
        (
            r#"db_event_total{table="songs",result="ok"} 1 "#,
            &traces[1],
        ),
        (
            r#"db_event_total{table="songs",result="error"} 1 "#,
            &traces[2],
        ),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start}\n{text}"));
        assert!(line.contains(&format!("trace_id=\"{trace}\"")), "{line}");
    }
    // Each call is the exemplar of the one bucket it fell in (and of its counter).
    assert_eq!(exemplars.len(), 6, "{text}");
    for trace in &traces {
        assert_eq!(
            exemplars.iter().filter(|t| **t == trace).count(),
            2,
            "{trace}\n{text}"
        );
    }
    assert!(
        !text.contains("0af7651916cd43dd8448eb211c80319c"),
        "unsampled"
    );
    let unsampled = text
        .lines()
        .find(|l| l.starts_with("unsampled_total"))
        .unwrap();
    assert!(!unsampled.contains('#'), "{unsampled}");
}

#[test]
fn both_formats_show_the_same_series() {
    let (metrics, _) = recorded();
    let prometheus = metrics.render();
    let openmetrics = metrics.render_openmetrics();
    let values = |text: &str| -> Vec<String> {
        let mut samples: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split(" # ").next().unwrap().to_owned())
            .collect();
        samples.sort();
        samples
    };
    assert!(!values(&prometheus).is_empty(), "{prometheus}");
    assert_eq!(values(&prometheus), values(&openmetrics));
}

#[test]
fn the_server_answers_openmetrics_to_a_scraper_that_asks_for_it() {
    let (metrics, _) = recorded();
    let server = metrics.serve("127.0.0.1:0").unwrap();
    let scrape = |accept: &str| {
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let openmetrics = scrape(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    );
    assert!(
        openmetrics.contains(
            "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
        ),
        "{openmetrics}"
    );
    assert!(openmetrics.ends_with("# EOF\n"));
    let text = scrape("text/plain");
    assert!(text.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert!(!text.contains("# EOF") && !text.contains("trace_id"));
}
