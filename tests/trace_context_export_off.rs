//! W3C Trace Context through the HTTP layer with trace export off: the example's forwarding
//! service continues a caller's valid `traceparent` and passes `tracestate` on from
//! observe's own span records alone, and starts a new trace for anything else. The cases
//! are in `trace_context_common/cases.rs`; `trace_context_export_on` runs them again with
//! export on.

mod trace_context_common;

use std::sync::OnceLock;

use trace_context_common::{Export, Harness, trace_context_tests};

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness::start(Export::Off))
}

trace_context_tests!(harness);
