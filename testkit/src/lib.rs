//! Test peers for observe's suites: real parts to talk to, not mocks.
//!
//! - [`otlp`]: an OTLP receiver (traces, metrics, logs; gRPC and HTTP/protobuf; plaintext,
//!   TLS and mutual TLS) built on `opentelemetry-proto`.
//! - [`logfmt`]: a strict logfmt parser to read observe's log lines back.
//! - [`http`]: a raw HTTP/1.1 client: requests byte for byte, whole responses read back.
//! - [`openmetrics`]: a strict OpenMetrics check, by the Prometheus Python client's parser.

#![warn(missing_docs, unreachable_pub)]

pub mod http;
pub mod logfmt;
pub mod openmetrics;
pub mod otlp;
