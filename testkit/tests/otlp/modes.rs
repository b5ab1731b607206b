//! Discard mode, HTTP refusals, HTTP/2 on the HTTP receiver, and waiting on metrics.

use std::time::Duration;

use http::StatusCode;
use observe_testkit::otlp::{Receiver, TlsMode, Transport};
use prost::Message;

use crate::clients::{ClientTls, HttpClient, export_all};
use crate::payloads;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn discard_mode_counts_and_keeps_nothing() {
    for transport in [Transport::Grpc, Transport::HttpProtobuf] {
        let receiver = Receiver::builder(transport).discard().start().unwrap();
        for _ in 0..20 {
            export_all(transport, &receiver.endpoint(), None)
                .await
                .unwrap();
        }
        let counts = receiver.counts();
        assert_eq!(
            (
                counts.trace_requests,
                counts.metrics_requests,
                counts.logs_requests
            ),
            (20, 20, 20),
            "{transport:?}"
        );
        assert_eq!(
            (counts.spans, counts.data_points, counts.log_records),
            (40, 60, 40)
        );
        assert!(receiver.requests().is_empty());
        assert!(receiver.metrics_requests().is_empty());
        assert!(receiver.logs_requests().is_empty());
        assert!(receiver.headers().is_empty());
        assert!(receiver.spans().is_empty());
        assert!(receiver.data_points().is_empty());
        assert!(receiver.log_records().is_empty());
    }
}

/// `google.rpc.Status`, as OTLP/HTTP returns it on a 4xx.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[tokio::test]
async fn http_refuses_other_content_types_and_bad_bodies_with_a_status() {
    let receiver = Receiver::start_http();
    let client = HttpClient::new(None);

    let (status, body) = client
        .post(&receiver.traces_url(), "application/json", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let refusal = RpcStatus::decode(body).unwrap();
    assert!(
        refusal.message.contains("application/x-protobuf"),
        "{refusal:?}"
    );

    let (status, body) = client
        .post(
            &receiver.logs_url(),
            "application/x-protobuf",
            vec![0xff, 0xff, 0xff],
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        RpcStatus::decode(body)
            .unwrap()
            .message
            .contains("bad protobuf")
    );

    let (status, _) = client
        .post(
            &format!("{}/v1/profiles", receiver.endpoint()),
            "application/x-protobuf",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(receiver.counts().rejected_requests, 2);
    assert!(receiver.headers().is_empty());
}

#[tokio::test]
async fn http_receiver_speaks_http2_over_tls() {
    let receiver = Receiver::builder(Transport::HttpProtobuf)
        .tls(TlsMode::Tls)
        .start()
        .unwrap();
    let tls = ClientTls::trusting(receiver.tls_files().unwrap());
    let client = HttpClient::with_versions(Some(&tls), true);
    let (status, _) = client
        .post(
            &receiver.metrics_url(),
            "application/x-protobuf",
            payloads::metrics().encode_to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receiver.data_points().len(), 3);
}

#[tokio::test]
async fn wait_for_metric_returns_the_points_of_one_name() {
    let receiver = Receiver::start_grpc();
    let endpoint = receiver.endpoint();
    let export = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        export_all(Transport::Grpc, &endpoint, None).await
    });
    // The receiver's waits block; run this one off the test's runtime thread.
    let points = tokio::task::spawn_blocking(move || {
        let points = receiver.wait_for_metric("queue_depth", WAIT);
        (points, receiver)
    });
    let (points, receiver) = points.await.unwrap();
    export.await.unwrap().unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].name, "queue_depth");
    assert!(
        receiver
            .wait_for_metric("no_such_metric", Duration::from_millis(20))
            .is_empty()
    );
}
