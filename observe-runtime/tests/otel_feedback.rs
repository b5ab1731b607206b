//! The exporter's own telemetry never feeds back into the pipeline, over gRPC.

#![cfg(feature = "otlp")]

mod otel_support;

use observe_runtime::config::Protocol;
use observe_testkit::otlp::Transport;

#[test]
fn exporter_spans_never_feed_back() {
    otel_support::exporter_spans_never_feed_back(Protocol::Grpc, Transport::Grpc);
}
