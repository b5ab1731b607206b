//! Each transport × TLS mode receives a real export of all three signals, and the
//! flattened views give back every field with its type.

use std::time::Duration;

use observe_testkit::otlp::{MetricKind, Number, Receiver, Temporality, TlsMode, Transport, Value};

use crate::clients::{AUTHORIZATION, ClientTls, TENANT, export_all};
use crate::payloads::{
    CLIENT_SPAN_ID_HEX, END, LINKED_TRACE_ID_HEX, SERVER_SPAN_ID_HEX, START, TRACE_ID_HEX,
};

const WAIT: Duration = Duration::from_secs(10);

async fn round_trip(transport: Transport, mode: TlsMode) -> Receiver {
    let receiver = Receiver::builder(transport).tls(mode).start().unwrap();
    let tls = receiver.tls_files().map(|files| match mode {
        TlsMode::MutualTls => ClientTls::mutual(files),
        _ => ClientTls::trusting(files),
    });
    export_all(transport, &receiver.endpoint(), tls.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{transport:?} {mode:?} export: {e}"));
    assert_everything_arrived(&receiver);
    receiver
}

fn assert_typed_attributes(attributes: &std::collections::BTreeMap<String, Value>) {
    assert_eq!(attributes["http.response.status_code"], Value::Int(200));
    assert_eq!(attributes["ratio"], Value::Double(0.25));
    assert_eq!(attributes["cached"], Value::Bool(true));
    assert_eq!(
        attributes["http.route"],
        Value::String("/items/{id}".into())
    );
    assert_eq!(
        attributes["order.id"],
        Value::String("42".into()),
        "text stays text"
    );
    assert_eq!(
        attributes["tags"],
        Value::Array(vec![Value::String("a".into()), Value::Int(1)])
    );
}

fn assert_everything_arrived(receiver: &Receiver) {
    let spans = receiver.wait_for_spans(2, WAIT);
    let points = receiver.wait_for_data_points(3, WAIT);
    let logs = receiver.wait_for_log_records(2, WAIT);

    assert_eq!(spans.len(), 2);
    let server = &spans[0];
    assert_eq!(server.name, "GET /items/{id}");
    assert_eq!(server.trace_id, TRACE_ID_HEX);
    assert_eq!(server.span_id, SERVER_SPAN_ID_HEX);
    assert_eq!(server.parent_span_id, "");
    assert_eq!(server.trace_state, "vendor=1");
    assert_eq!(server.kind, "server");
    assert_eq!(
        (server.status, server.status_message.as_str()),
        ("error", "upstream failed")
    );
    assert_eq!(
        (server.start_time_unix_nano, server.end_time_unix_nano),
        (START, END)
    );
    assert_eq!(
        (server.scope.as_str(), server.scope_version.as_str()),
        ("observe-testkit", "1.2.3")
    );
    assert_typed_attributes(&server.typed_attributes);
    // The string view renders the same values.
    assert_eq!(server.attributes["http.response.status_code"], "200");
    assert_eq!(server.attributes["tags"], "[a,1]");
    assert_eq!(server.resource["service.name"], "checkout");
    assert_eq!(
        server.typed_resource["service.instance.count"],
        Value::Int(3)
    );
    assert_eq!(server.events, ["retry"]);
    assert_eq!(server.event_details[0].time_unix_nano, START + 1_000);
    assert_eq!(server.event_details[0].attributes["attempt"], Value::Int(2));
    assert_eq!(
        server.links,
        [(
            LINKED_TRACE_ID_HEX.to_owned(),
            SERVER_SPAN_ID_HEX.to_owned()
        )]
    );
    assert_eq!(
        server.link_details[0].attributes["link.reason"],
        Value::String("batch".into())
    );
    let client = &spans[1];
    assert_eq!(
        (client.kind, client.status, client.span_id.as_str()),
        ("client", "ok", CLIENT_SPAN_ID_HEX)
    );
    assert_eq!(client.parent_span_id, server.span_id);

    assert_eq!(points.len(), 3);
    let calls = &points[0];
    assert_eq!(calls.name, "checkout_total");
    assert_eq!(calls.description, "Calls to checkout.");
    assert_eq!(calls.kind, MetricKind::Sum);
    assert!(calls.monotonic);
    assert_eq!(calls.temporality, Temporality::Cumulative);
    assert_eq!(calls.value, Some(Number::Int(5)), "an int sum stays an int");
    assert_eq!(calls.attributes["shard"], Value::Int(7));
    assert_eq!(calls.attributes["result"], Value::String("ok".into()));
    assert_eq!(
        (calls.start_time_unix_nano, calls.time_unix_nano),
        (START, END)
    );
    assert_eq!(
        calls.resource["service.name"],
        Value::String("checkout".into())
    );
    assert_eq!(calls.exemplars.len(), 1);
    assert_eq!(calls.exemplars[0].trace_id, TRACE_ID_HEX);
    assert_eq!(calls.exemplars[0].span_id, SERVER_SPAN_ID_HEX);
    assert_eq!(calls.exemplars[0].value, Some(Number::Int(1)));
    assert_eq!(calls.exemplars[0].time_unix_nano, START + 5);
    assert_eq!(
        calls.exemplars[0].filtered_attributes["user"],
        Value::String("u1".into())
    );

    let queue = &points[1];
    assert_eq!(
        (queue.name.as_str(), queue.kind),
        ("queue_depth", MetricKind::Gauge)
    );
    assert_eq!(queue.value, Some(Number::Double(1.5)));
    assert_eq!(queue.temporality, Temporality::Unspecified);
    assert!(!queue.monotonic);

    let duration = &points[2];
    assert_eq!(duration.kind, MetricKind::Histogram);
    assert_eq!(duration.unit, "s");
    assert_eq!(duration.temporality, Temporality::Delta);
    assert_eq!(duration.value, None);
    assert_eq!((duration.count, duration.sum), (3, Some(0.75)));
    assert_eq!((duration.min, duration.max), (Some(0.05), Some(0.4)));
    assert_eq!(duration.bucket_bounds, [0.1, 0.5]);
    assert_eq!(duration.bucket_counts, [1, 2, 0]);
    assert_eq!(duration.exemplars[0].value, Some(Number::Double(0.3)));

    assert_eq!(logs.len(), 2);
    let error = &logs[0];
    assert_eq!(
        (error.severity_number, error.severity_text.as_str()),
        (17, "ERROR")
    );
    assert_eq!(error.body, Value::String("checkout failed".into()));
    assert_typed_attributes(&error.attributes);
    assert_eq!(
        (error.trace_id.as_str(), error.span_id.as_str()),
        (TRACE_ID_HEX, SERVER_SPAN_ID_HEX)
    );
    assert_eq!(
        (error.time_unix_nano, error.observed_time_unix_nano),
        (START, START + 7)
    );
    assert_eq!(error.flags, 1);
    assert_eq!(error.scope, "observe-testkit");
    let info = &logs[1];
    assert_eq!(info.body, Value::Int(12), "an int body stays an int");
    assert_eq!((info.trace_id.as_str(), info.span_id.as_str()), ("", ""));

    // Headers of all three requests, whatever the transport.
    assert_eq!(receiver.header_values("authorization"), [AUTHORIZATION; 3]);
    assert_eq!(receiver.header_values("X-Tenant"), [TENANT; 3]);
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.metrics_requests().len(), 1);
    assert_eq!(receiver.logs_requests().len(), 1);
    let counts = receiver.counts();
    assert_eq!(
        (counts.spans, counts.data_points, counts.log_records),
        (2, 3, 2)
    );
    assert_eq!(
        counts.tls_handshake_failures,
        0,
        "{:?}",
        receiver.tls_errors()
    );
}

#[tokio::test]
async fn grpc_plaintext_receives_traces_metrics_and_logs() {
    let receiver = round_trip(Transport::Grpc, TlsMode::Plaintext).await;
    assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn grpc_tls_receives_traces_metrics_and_logs() {
    let receiver = round_trip(Transport::Grpc, TlsMode::Tls).await;
    assert!(receiver.endpoint().starts_with("https://127.0.0.1:"));
}

#[tokio::test]
async fn grpc_mutual_tls_receives_traces_metrics_and_logs() {
    round_trip(Transport::Grpc, TlsMode::MutualTls).await;
}

#[tokio::test]
async fn http_plaintext_receives_traces_metrics_and_logs() {
    let receiver = round_trip(Transport::HttpProtobuf, TlsMode::Plaintext).await;
    assert!(receiver.traces_url().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn http_tls_receives_traces_metrics_and_logs() {
    let receiver = round_trip(Transport::HttpProtobuf, TlsMode::Tls).await;
    assert!(receiver.metrics_url().starts_with("https://127.0.0.1:"));
}

#[tokio::test]
async fn http_mutual_tls_receives_traces_metrics_and_logs() {
    round_trip(Transport::HttpProtobuf, TlsMode::MutualTls).await;
}

/// The certificate names `localhost` too, so the host-name endpoint verifies.
#[tokio::test]
async fn tls_endpoints_by_host_name_verify() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let receiver = Receiver::builder(transport)
            .tls(TlsMode::MutualTls)
            .start()
            .unwrap();
        let tls = ClientTls::mutual(receiver.tls_files().unwrap());
        export_all(transport, &receiver.localhost_endpoint(), Some(&tls))
            .await
            .unwrap_or_else(|e| panic!("{transport:?} via localhost: {e}"));
        assert_eq!(receiver.wait_for_spans(2, WAIT).len(), 2, "{transport:?}");
    }
}
