//! All three signals over OTLP to a real receiver (testkit, on opentelemetry-proto), over
//! gRPC and HTTP/protobuf, in plaintext, TLS with a CA the test generates, and mutual TLS:
//! spans, pushed metrics equal to the exposition, log records with their ids; an untrusted
//! server is a counted failure and never a plaintext retry.

#![cfg(feature = "otlp")]

use std::time::Duration;

use observe_runtime::Signals;
use observe_runtime::config::{Config, MetricsExporters, Protocol, Settings};
use observe_runtime::filter::SignalFilter;
use observe_runtime::log::writer::MemorySink;
use observe_runtime::log::{LogExport, LogOutput};
use observe_runtime::metrics::{Metrics, MetricsConfig};
use observe_runtime::trace::TracePipeline;
use observe_testkit::otlp::{Number, Receiver, TlsMode, Transport, Value};

const WAIT: Duration = Duration::from_secs(10);

fn protocol(transport: Transport) -> Protocol {
    match transport {
        Transport::Grpc => Protocol::Grpc,
        Transport::HttpProtobuf => Protocol::HttpProtobuf,
    }
}

/// Settings for every signal towards `receiver`, trusting its CA and, in mutual TLS,
/// presenting its client certificate.
fn settings(receiver: &Receiver, trust: Trust) -> Settings {
    let mut config = Config::new()
        .service_name("otlp-signals")
        .otlp_endpoint(receiver.endpoint())
        .otlp_protocol(protocol(receiver.transport()))
        .otlp_timeout(Duration::from_secs(2))
        .metrics_exporters(MetricsExporters {
            prometheus: true,
            otlp: true,
        })
        .metric_export_interval(Duration::from_secs(3600))
        .logs_export(true);
    if let Some(files) = receiver.tls_files() {
        config = match trust {
            Trust::Ca => config.otlp_certificate(files.ca_certificate()),
            Trust::OtherCa => config.otlp_certificate(files.untrusted_ca_certificate()),
        };
        if receiver.tls_mode() == TlsMode::MutualTls {
            config = config.otlp_client_identity(files.client_certificate(), files.client_key());
        }
    }
    config.resolve_with(|_| None, "unused").unwrap()
}

#[derive(Clone, Copy)]
enum Trust {
    Ca,
    OtherCa,
}

/// Each signal's pipeline and a dispatch that feeds them, with lines in `lines`.
struct Pipelines {
    traces: TracePipeline,
    metrics: Metrics,
    push: observe_runtime::metrics::MetricsPush,
    logs: LogExport,
    lines: MemorySink,
    dispatch: tracing::Dispatch,
}

fn pipelines(settings: &Settings) -> Pipelines {
    let traces = TracePipeline::start(settings.traces.as_ref().unwrap()).unwrap();
    let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    let push = metrics
        .push_otlp(settings.metrics_export.as_ref().unwrap())
        .unwrap();
    let logs = LogExport::start(settings.logs_export.as_ref().unwrap()).unwrap();
    let lines = MemorySink::new();
    let signals = Signals::builder()
        .logs(
            LogOutput::new(lines.clone()).with_records(logs.sink()),
            SignalFilter::new("info").unwrap(),
        )
        .metrics(&metrics, SignalFilter::all())
        .traces(traces.sink(), SignalFilter::new("info").unwrap())
        .filter_subscriber()
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        signals,
    ));
    Pipelines {
        traces,
        metrics,
        push,
        logs,
        lines,
        dispatch,
    }
}

/// A request with a nested call, an event with typed fields, and a failed call.
fn work(dispatch: &tracing::Dispatch) {
    tracing::dispatcher::with_default(dispatch, || {
        let request = tracing::info_span!("request", request_id = "r-1", metric_name = "request");
        request.in_scope(|| {
            let save = tracing::info_span!(
                "save",
                metric_name = "db_event",
                metric_label_table = "songs",
                observe.result = tracing::field::Empty
            );
            save.in_scope(|| tracing::info!(rows = 3_u64, ratio = 0.5, cached = false, "saved"));
            drop(save);
            tracing::info_span!(
                "save",
                metric_name = "db_event",
                metric_label_table = "songs",
                observe.result = "error"
            )
            .in_scope(|| tracing::warn!("retrying"));
        });
    });
}

fn every_signal_arrives(transport: Transport, tls: TlsMode) {
    let receiver = Receiver::builder(transport).tls(tls).start().unwrap();
    let settings = settings(&receiver, Trust::Ca);
    let mut p = pipelines(&settings);
    work(&p.dispatch);
    assert!(p.traces.force_flush(WAIT));
    assert!(p.logs.force_flush(WAIT));
    // The exposition and the push, at the same moment.
    let exposition = p.metrics.render();
    assert!(p.push.force_push(WAIT));

    let spans = receiver.wait_for_spans(3, WAIT);
    assert_eq!(spans.len(), 3, "{tls:?} {transport:?}: {spans:#?}");
    assert!(
        spans
            .iter()
            .all(|s| s.resource["service.name"] == "otlp-signals")
    );

    // Pushed values are the exposition's.
    let points = receiver.wait_for_metric("db_event_total", WAIT);
    let total = |result: &str| {
        points
            .iter()
            .find(|p| p.attributes.get("result") == Some(&Value::String(result.into())))
            .and_then(|p| p.value)
            .map(Number::as_f64)
    };
    assert_eq!(
        (total("ok"), total("error")),
        (Some(1.0), Some(1.0)),
        "{points:#?}"
    );
    assert!(exposition.contains(r#"db_event_total{table="songs",result="ok"} 1"#));
    let histogram = receiver
        .data_points()
        .into_iter()
        .find(|p| {
            p.name == "db_event_duration_seconds"
                && p.attributes.get("result") == Some(&Value::String("ok".into()))
        })
        .expect("the histogram");
    assert_eq!(
        histogram.bucket_bounds,
        observe_runtime::metrics::DEFAULT_BUCKETS
    );
    assert_eq!(histogram.count, 1);
    assert_eq!(histogram.bucket_counts.iter().sum::<u64>(), 1);
    let save = spans
        .iter()
        .find(|s| s.name == "save" && s.status == "unset")
        .unwrap();
    assert_eq!(histogram.exemplars.len(), 1, "{histogram:#?}");
    assert_eq!(histogram.exemplars[0].trace_id, save.trace_id);
    assert_eq!(histogram.exemplars[0].span_id, save.span_id);

    // One record per line, with the line's ids and typed fields.
    let lines = p.lines.lines();
    let records = receiver.wait_for_log_records(lines.len(), WAIT);
    assert_eq!(records.len(), lines.len(), "{lines:#?}\n{records:#?}");
    let saved = records
        .iter()
        .find(|r| r.body == Value::String("saved".into()))
        .expect("the event's record");
    assert_eq!(saved.severity_text, "INFO");
    assert_eq!(saved.severity_number, 9);
    assert_eq!(saved.attributes["rows"], Value::Int(3));
    assert_eq!(saved.attributes["ratio"], Value::Double(0.5));
    assert_eq!(saved.attributes["cached"], Value::Bool(false));
    assert_eq!(
        saved.attributes["request_id"],
        Value::String("r-1".into()),
        "inherited"
    );
    assert_eq!(
        (saved.trace_id.as_str(), saved.span_id.as_str()),
        (save.trace_id.as_str(), save.span_id.as_str())
    );
    let event_line = lines.iter().find(|l| l.contains("msg=saved")).unwrap();
    assert!(event_line.contains(&format!("trace_id={}", saved.trace_id)));
    let retry = records
        .iter()
        .find(|r| r.body == Value::String("retrying".into()))
        .unwrap();
    assert_eq!(retry.severity_text, "WARN");

    p.traces.shutdown(WAIT).unwrap();
    assert!(p.push.shutdown(WAIT) && p.logs.shutdown(WAIT));
    assert_eq!(p.traces.failed_exports() + p.push.failed_exports(), 0);
}

#[test]
fn grpc_plaintext() {
    every_signal_arrives(Transport::Grpc, TlsMode::Plaintext);
}

#[test]
fn http_plaintext() {
    every_signal_arrives(Transport::HttpProtobuf, TlsMode::Plaintext);
}

#[test]
fn grpc_tls_with_a_trusted_ca() {
    every_signal_arrives(Transport::Grpc, TlsMode::Tls);
}

#[test]
fn http_tls_with_a_trusted_ca() {
    every_signal_arrives(Transport::HttpProtobuf, TlsMode::Tls);
}

#[test]
fn grpc_mutual_tls() {
    every_signal_arrives(Transport::Grpc, TlsMode::MutualTls);
}

#[test]
fn http_mutual_tls() {
    every_signal_arrives(Transport::HttpProtobuf, TlsMode::MutualTls);
}

/// A server whose certificate does not verify: nothing is delivered, each signal's export
/// fails and is counted, and nothing is sent in plaintext instead.
fn untrusted(transport: Transport) {
    let receiver = Receiver::builder(transport)
        .tls(TlsMode::Tls)
        .start()
        .unwrap();
    let settings = settings(&receiver, Trust::OtherCa);
    let mut p = pipelines(&settings);
    work(&p.dispatch);
    assert!(p.traces.force_flush(WAIT));
    assert!(p.logs.force_flush(WAIT));
    assert!(p.push.force_push(WAIT));
    assert!(p.traces.failed_exports() >= 1);
    assert!(p.push.failed_exports() >= 1);
    let counts = receiver.counts();
    assert_eq!(
        (
            counts.trace_requests,
            counts.metrics_requests,
            counts.logs_requests
        ),
        (0, 0, 0),
        "{counts:?}"
    );
    assert!(
        !receiver.tls_errors().is_empty(),
        "the handshake was refused"
    );
    let _ = p.traces.shutdown(WAIT);
    assert!(p.push.shutdown(WAIT) && p.logs.shutdown(WAIT));
}

#[test]
fn grpc_untrusted_server_is_a_counted_failure() {
    untrusted(Transport::Grpc);
}

#[test]
fn http_untrusted_server_is_a_counted_failure() {
    untrusted(Transport::HttpProtobuf);
}

/// A receiver that requires a client certificate refuses a client without one.
fn mutual_tls_required(transport: Transport) {
    let receiver = Receiver::builder(transport)
        .tls(TlsMode::MutualTls)
        .start()
        .unwrap();
    let files = receiver.tls_files().unwrap();
    let settings = Config::new()
        .otlp_endpoint(receiver.endpoint())
        .otlp_protocol(protocol(transport))
        .otlp_timeout(Duration::from_secs(2))
        .otlp_certificate(files.ca_certificate())
        .resolve_with(|_| None, "unused")
        .unwrap();
    let mut traces = TracePipeline::start(settings.traces.as_ref().unwrap()).unwrap();
    let signals = Signals::builder()
        .traces(traces.sink(), SignalFilter::all())
        .build();
    tracing::subscriber::with_default(
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), signals),
        || tracing::info_span!("refused").in_scope(|| {}),
    );
    assert!(traces.force_flush(WAIT));
    assert!(traces.failed_exports() >= 1);
    assert_eq!(receiver.counts().trace_requests, 0);
    let _ = traces.shutdown(WAIT);
}

#[test]
fn grpc_mutual_tls_without_a_client_certificate_fails() {
    mutual_tls_required(Transport::Grpc);
}

#[test]
fn http_mutual_tls_without_a_client_certificate_fails() {
    mutual_tls_required(Transport::HttpProtobuf);
}

#[test]
fn unreadable_or_malformed_pem_files_fail_naming_their_variable() {
    let dir = std::env::temp_dir().join(format!("observe-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let missing = dir.join("missing.pem");
    for (var, value) in [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &garbage),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &missing),
        ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", &garbage),
    ] {
        let env = |name: &str| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("https://collector.example:4318".to_owned()),
            n if n == var => Some(value.display().to_string()),
            _ => None,
        };
        let err = Config::new().resolve_with(env, "svc").unwrap_err();
        assert_eq!(err.variable(), var, "{err}");
    }
    let env = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE" => Some(garbage.display().to_string()),
        _ => None,
    };
    let err = Config::new().resolve_with(env, "svc").unwrap_err();
    assert_eq!(
        err.variable(),
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
