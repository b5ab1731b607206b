//! The exporter's own telemetry never feeds back into the pipeline, over HTTP/protobuf.

#![cfg(feature = "otlp")]

const PROTOCOL: observe_runtime::config::Protocol = observe_runtime::config::Protocol::HttpProtobuf;
const TRANSPORT: observe_testkit::otlp::Transport = observe_testkit::otlp::Transport::HttpProtobuf;

include!("otel_support/feedback.rs");
