//! W3C Trace Context through the HTTP layer with trace export on, to a real OTLP receiver:
//! the cases of `trace_context_export_off`, and for each request that the exported spans are
//! the logged ones (same ids), the server span the caller's child, the client spans the
//! server span's, with the caller's `tracestate`; and that an unsampled trace exports
//! nothing.

mod trace_context_common;

use std::sync::OnceLock;

use trace_context_common::{Export, Harness, trace_context_tests};

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness::start(Export::On))
}

trace_context_tests!(harness);
