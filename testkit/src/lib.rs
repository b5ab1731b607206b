//! Test peers for observe's suites: real parts to talk to, not mocks.
//!
//! - [`otlp`]: an OTLP trace receiver (gRPC and HTTP/protobuf) built on `opentelemetry-proto`.
//! - [`logfmt`]: a strict logfmt parser to read observe's log lines back.

pub mod logfmt;
pub mod otlp;
