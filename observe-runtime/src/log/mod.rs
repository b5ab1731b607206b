//! Log lines: encoders (logfmt, JSON), RFC 3339 timestamps and the line writers.

pub mod encode;
pub mod json;
pub mod logfmt;
pub mod timestamp;
pub mod writer;
