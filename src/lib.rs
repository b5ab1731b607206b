//! Logs, metrics and traces for a Rust service from one attribute.
//!
//! See the README for a quick start and `../shared/DESIGN.md` for the contract.

extern crate self as observe;

pub use observe_macros::{observe, observe_async};
pub use observe_runtime as runtime;

#[doc(hidden)]
pub mod __private;
