//! A real OTLP receiver for tests: traces, metrics and logs over gRPC or HTTP/protobuf, in
//! plaintext, TLS or mutual TLS, on `127.0.0.1`, decoding with `opentelemetry-proto`.
//!
//! The receiver runs on its own thread with its own tokio runtime, so it works from plain
//! `#[test]` functions and from any runtime flavour. Every export request is stored with its
//! request headers (gRPC metadata), and read back flattened: [`Receiver::spans`],
//! [`Receiver::data_points`], [`Receiver::log_records`], with attribute types kept
//! ([`Value`]). Its thread has a no-op tracing dispatcher, so the receiver's own
//! h2/hyper/tonic telemetry never reaches a global subscriber under test. Dropping the
//! receiver stops it.
//!
//! Where things are:
//! - `receiver.rs`: [`Receiver`], the handle a test holds (endpoints, views, `wait_for_*`).
//! - `builder.rs`: [`ReceiverBuilder`] and [`Transport`]: TLS mode, address, discard mode.
//! - `server.rs`: the thread, the accept loop and the TLS handshakes both transports share.
//! - `grpc.rs` / `http.rs`: the three export services on tonic / the three routes on axum.
//! - `tls.rs`: the test CA (rcgen), the PEM files ([`TlsFiles`]), the rustls server config.
//! - `store.rs`: what is kept ([`Received`], [`Counts`]) and the condition variable waiters
//!   sleep on.
//! - `spans.rs`, `metrics.rs`, `logs.rs`: the flattened views; `value.rs`: typed values.
//!
//! ```
//! use observe_testkit::otlp::{Receiver, TlsMode, Transport};
//!
//! let receiver = Receiver::start_http();
//! assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
//! assert!(receiver.spans().is_empty());
//!
//! let secure = Receiver::builder(Transport::Grpc).tls(TlsMode::MutualTls).start()?;
//! let files = secure.tls_files().expect("TLS mode writes PEM files");
//! assert!(files.ca_certificate().is_file() && files.client_key().is_file());
//! assert!(secure.endpoint().starts_with("https://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod builder;
mod grpc;
mod http;
mod logs;
mod metrics;
mod receiver;
mod server;
mod spans;
mod store;
mod tls;
mod value;

pub use builder::{ReceiverBuilder, Transport};
pub use logs::{ReceivedLogRecord, flatten_logs};
pub use metrics::{
    ExponentialBuckets, MetricKind, Number, ReceivedDataPoint, ReceivedExemplar, Temporality,
    flatten_metrics,
};
pub use receiver::Receiver;
pub use spans::{ReceivedSpan, SpanEvent, SpanLink, flatten};
pub use store::{Counts, Received, ReceivedLogsRequest, ReceivedMetricsRequest, ReceivedRequest};
pub use tls::{TlsFiles, TlsMode};
pub use value::{Value, any_value_to_string};
