//! Log lines: the [`LogLayer`], its encoders (logfmt, JSON), RFC 3339 timestamps and the
//! line writers.

pub mod encode;
pub mod json;
mod layer;
pub mod logfmt;
pub mod timestamp;
pub mod writer;

pub use layer::{LogFormat, LogLayer};

#[cfg(test)]
#[path = "../../../testkit/src/logfmt.rs"]
mod logfmt_parse;

#[cfg(test)]
mod tests;
