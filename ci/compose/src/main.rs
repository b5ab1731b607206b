//! An application with its own OpenTelemetry pipeline next to observe's.
//!
//! It exports one span through an opentelemetry-otlp exporter it builds itself (with the
//! HTTP client its features pick: the blocking reqwest client by default), and one
//! `#[observe]` call through `observe::runtime::init()`; both send to the collector that
//! `OTEL_EXPORTER_OTLP_ENDPOINT` names (when it names none, observe exports nothing and
//! the application's exporter tries `localhost:4318`).
//!
//! `scripts/compose-check.sh` builds it: what it proves is that the two dependency graphs
//! unify into one that compiles.

use std::error::Error;

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The application's own call, observed.
#[observe::observe(metric = "compose_work")]
fn work(n: u32) -> u32 {
    n * 3
}

/// The application's exporter over OTLP/HTTP, as opentelemetry-otlp's docs build it.
#[cfg(feature = "http-proto")]
fn exporter() -> Result<opentelemetry_otlp::SpanExporter, Box<dyn Error>> {
    Ok(opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?)
}

/// The application's exporter over OTLP/gRPC; tonic's channel is made inside a tokio
/// runtime, which the application keeps for the exporter's life.
#[cfg(all(feature = "grpc-tonic", not(feature = "http-proto")))]
fn exporter() -> Result<opentelemetry_otlp::SpanExporter, Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let exporter = runtime.block_on(async {
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
    })?;
    // The channel's connection task runs on this runtime until the process ends.
    std::mem::forget(runtime);
    Ok(exporter)
}

fn main() -> Result<(), Box<dyn Error>> {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter()?)
        .build();
    provider
        .tracer("observe-compose-check")
        .in_span("startup", |_| {});

    let guard = observe::runtime::init()?;
    println!("work(7) = {}", work(7));
    drop(guard);
    provider.shutdown()?;
    Ok(())
}
