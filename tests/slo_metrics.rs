//! What the metrics signal makes of the registry and of the options autometrics users rely
//! on: series at 0 before the first call, objective labels with a bucket at the latency
//! threshold, and `<metric>_in_flight` gauges that come back down however a call ends.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use observe::observe;
use observe::runtime::Signals;
use observe::runtime::filter::SignalFilter;
use observe::runtime::metrics::{Metrics, MetricsConfig};
use tracing_subscriber::layer::SubscriberExt as _;

const MODULE: &str = module_path!();

#[allow(dead_code)]
#[observe(metric = "checkout", labels(tier = "gold"))]
fn never_called() {}

#[allow(dead_code)]
#[observe(metric = "lookup", labels(table = table))]
fn labelled_by_argument(table: &str) {
    let _ = table;
}

#[observe(metric = "api_call", objective(name = "api", success = 99.9, latency = ("250ms", 99.0)))]
fn serve(fail: bool) -> Result<(), String> {
    if fail { Err("no".into()) } else { Ok(()) }
}

#[observe(metric = "slow_call", objective(name = "batch", latency = ("3s", 95.0)))]
fn batch() {}

/// A metric shared with a function without objective: two series, told apart by the
/// objective labels.
#[observe(
    metric = "shared",
    labels(kind = "a"),
    objective(name = "shared", success = 99.0)
)]
fn shared_with_objective() {}

#[observe(metric = "shared", labels(kind = "b"))]
fn shared_without_objective() {}

/// Reads the current render while the call is in flight.
type Probe = Arc<Mutex<Option<Box<dyn Fn() -> String + Send>>>>;

fn probe(metrics: &Metrics) -> Probe {
    let metrics = metrics.clone();
    Arc::new(Mutex::new(Some(Box::new(move || metrics.render()))))
}

fn render_now(probe: &Probe) -> String {
    (probe.lock().unwrap().as_ref().unwrap())()
}

#[observe(metric = "upload", track_concurrency)]
fn upload(probe: &Probe, outcome: &str) -> Result<String, String> {
    let text = render_now(probe);
    match outcome {
        "panic" => panic!("upload failed"),
        "error" => Err(text),
        _ => Ok(text),
    }
}

#[observe(metric = "download", track_concurrency, labels(region = "eu"))]
async fn download(gate: Arc<Mutex<bool>>) {
    std::future::poll_fn(|_| {
        if *gate.lock().unwrap() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

fn metrics_and_subscriber(
    filter: SignalFilter,
) -> (Metrics, impl tracing::Subscriber + Send + Sync) {
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    let signals = Signals::builder().metrics(&metrics, filter).build();
    let subscriber = tracing_subscriber::registry().with(signals);
    (metrics, subscriber)
}

fn sample<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
}

#[test]
fn series_with_literal_labels_exist_at_zero_before_the_first_call() {
    let (metrics, _subscriber) = metrics_and_subscriber(SignalFilter::all());
    let text = metrics.render();
    for result in ["ok", "error"] {
        let labels = format!(r#"tier="gold",result="{result}""#);
        assert_eq!(
            sample(&text, &format!("checkout_total{{{labels}}}")),
            Some("0"),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!("checkout_duration_seconds_count{{{labels}}}")
            ),
            Some("0")
        );
        assert_eq!(
            sample(
                &text,
                &format!(r#"checkout_duration_seconds_bucket{{{labels},le="+Inf"}}"#)
            ),
            Some("0")
        );
    }
    assert!(
        !text.contains("result=\"cancelled\""),
        "only ok and error are made in advance"
    );
    assert!(
        !text.contains("lookup_total"),
        "labels from arguments are not known in advance:\n{text}"
    );
    // The in-flight gauge of a tracked function, at 0.
    assert_eq!(
        sample(&text, r#"download_in_flight{region="eu"}"#),
        Some("0")
    );
}

#[test]
fn a_function_the_metrics_filter_leaves_out_gets_no_series() {
    let filter = SignalFilter::new(&format!("info,{MODULE}=off")).unwrap();
    let (metrics, _subscriber) = metrics_and_subscriber(filter);
    let text = metrics.render();
    assert!(!text.contains("checkout_total"), "{text}");
    // The same registry with a filter that takes the function: its series are there.
    let (metrics, _subscriber) = metrics_and_subscriber(SignalFilter::all());
    let text = metrics.render();
    assert!(text.contains("checkout_total{"), "{text}");
}

#[test]
fn objectives_label_their_series_and_their_threshold_is_a_bucket() {
    let (metrics, subscriber) = metrics_and_subscriber(SignalFilter::all());
    tracing::subscriber::with_default(subscriber, || {
        serve(false).unwrap();
        serve(true).unwrap_err();
        batch();
        shared_with_objective();
        shared_without_objective();
    });
    let text = metrics.render();
    let success = r#"objective_name="api",objective_percentile="99.9""#;
    let latency =
        r#"objective_name="api",objective_percentile="99",objective_latency_threshold="0.25""#;
    for result in ["ok", "error"] {
        let counter = format!(r#"api_call_total{{result="{result}",{success}}}"#);
        assert_eq!(sample(&text, &counter), Some("1"), "{counter} in\n{text}");
        // The default buckets lack 0.25: it is added, and its `le` reads as the label.
        let bucket =
            format!(r#"api_call_duration_seconds_bucket{{result="{result}",{latency},le="0.25"}}"#);
        assert_eq!(sample(&text, &bucket), Some("1"), "{bucket} in\n{text}");
    }
    // The counter of a latency-only objective has no objective labels, its histogram has.
    assert_eq!(sample(&text, r#"slow_call_total{result="ok"}"#), Some("1"));
    let threshold = r#"objective_latency_threshold="3.0",le="3.0"}"#;
    assert!(
        text.lines().any(
            |line| line.starts_with("slow_call_duration_seconds_bucket{")
                && line.contains(threshold)
        ),
        "{text}"
    );
    // One metric, two functions, one with an objective: two series.
    assert_eq!(
        sample(
            &text,
            r#"shared_total{kind="a",result="ok",objective_name="shared",objective_percentile="99"}"#
        ),
        Some("1")
    );
    assert_eq!(
        sample(&text, r#"shared_total{kind="b",result="ok"}"#),
        Some("1")
    );
}

#[test]
fn the_in_flight_gauge_comes_back_down_however_a_call_ends() {
    let (metrics, subscriber) = metrics_and_subscriber(SignalFilter::all());
    let probe = probe(&metrics);
    let gauge = |text: &str| sample(text, "upload_in_flight").map(str::to_owned);
    tracing::subscriber::with_default(subscriber, || {
        let inside = upload(&probe, "ok").unwrap();
        assert_eq!(gauge(&inside).as_deref(), Some("1"), "{inside}");
        assert_eq!(gauge(&metrics.render()).as_deref(), Some("0"));

        let inside = upload(&probe, "error").unwrap_err();
        assert_eq!(gauge(&inside).as_deref(), Some("1"));
        assert_eq!(gauge(&metrics.render()).as_deref(), Some("0"));

        let panicked = std::panic::catch_unwind(|| upload(&probe, "panic"));
        assert!(panicked.is_err());
        assert_eq!(gauge(&metrics.render()).as_deref(), Some("0"));

        // Two calls of an async function in flight at once, then one cancelled.
        let gate = Arc::new(Mutex::new(false));
        let mut cx = Context::from_waker(Waker::noop());
        let mut first = Box::pin(download(gate.clone()));
        let mut second = Box::pin(download(gate.clone()));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        let region = r#"download_in_flight{region="eu"}"#;
        assert_eq!(sample(&metrics.render(), region), Some("2"));
        drop(second);
        assert_eq!(sample(&metrics.render(), region), Some("1"));
        *gate.lock().unwrap() = true;
        assert!(first.as_mut().poll(&mut cx).is_ready());
        drop(first);
        assert_eq!(sample(&metrics.render(), region), Some("0"));
        let text = metrics.render();
        assert_eq!(
            sample(&text, r#"download_total{region="eu",result="cancelled"}"#),
            Some("1"),
            "{text}"
        );
    });
}

#[test]
fn a_label_recorded_after_the_start_counts_the_call_under_its_final_labels() {
    let (metrics, subscriber) = metrics_and_subscriber(SignalFilter::all());
    tracing::subscriber::with_default(subscriber, || {
        // What `#[observe(track_concurrency)]` declares, with a label known only later.
        let span = tracing::info_span!(
            "route",
            metric_name = "route",
            metric_label_route = "unknown",
            observe.in_flight = tracing::field::Empty,
        );
        assert_eq!(
            sample(&metrics.render(), r#"route_in_flight{route="unknown"}"#),
            Some("1")
        );
        span.record("metric_label_route", "/songs");
        drop(span);
    });
    let text = metrics.render();
    assert_eq!(
        sample(&text, r#"route_total{route="/songs",result="ok"}"#),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"route_total{route="unknown",result="ok"}"#),
        Some("0"),
        "the series the call started in stays, uncounted: {text}"
    );
    assert_eq!(
        sample(&text, r#"route_in_flight{route="unknown"}"#),
        Some("0")
    );
}
