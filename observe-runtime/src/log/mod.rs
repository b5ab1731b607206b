//! Log lines: encoders (logfmt, JSON), timestamps and the non-blocking writer.

pub mod encode;
pub mod json;
pub mod logfmt;
pub mod timestamp;
