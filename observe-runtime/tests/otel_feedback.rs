//! The exporter's own telemetry never feeds back into the pipeline, over gRPC.

#![cfg(feature = "otlp")]

const PROTOCOL: observe_runtime::config::Protocol = observe_runtime::config::Protocol::Grpc;
const TRANSPORT: observe_testkit::otlp::Transport = observe_testkit::otlp::Transport::Grpc;

include!("otel_support/feedback.rs");
