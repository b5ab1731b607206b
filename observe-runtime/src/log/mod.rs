//! Log lines: logfmt or JSON, one per span open, span close and event, written by the
//! [`Signals`](crate::Signals) layer into a [`LogOutput`].
//!
//! What an application composes: [`LogOutput`] with a [`LogFormat`] and a [`SpanLines`]
//! choice, a sink from [`writer`], and (feature `otlp`) `LogExport` and `LogRecordSink`.
//! The encoders behind them are the crate's own.
//!
//! - `output.rs`: [`LogOutput`], [`LogFormat`], [`SpanLines`];
//! - `line.rs`: a line's keys in the order `docs/reference.md` gives, and the inherited context;
//! - `primitives.rs`: the bytes of keys, values, ids, timestamps;
//! - `cache.rs`: encodings a span's record keeps between its lines;
//! - `records.rs`: the same lines as OTLP log records (feature `otlp`);
//! - `encode/`: what both formats share (keys, numbers, escaping); `logfmt.rs`, `json.rs`:
//!   each format's quoting and escaping rules;
//! - `timestamp.rs`: RFC 3339 timestamps without a clock read per span line;
//! - `writer/`: the sinks ([`writer::NonBlockingWriter`] for stdout).

#![warn(unreachable_pub)]

mod cache;
mod encode;
mod json;
mod line;
mod logfmt;
mod output;
pub(crate) mod primitives;
#[cfg(feature = "otlp")]
mod records;
pub(crate) mod timestamp;
pub mod writer;

pub(crate) use cache::SpanLogCache;
pub use output::{LogFormat, LogOutput, SpanLines};
#[cfg(feature = "otlp")]
pub use records::{LogExport, LogRecordSink};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
