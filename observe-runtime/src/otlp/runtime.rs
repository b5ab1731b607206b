//! The export runtime: one worker thread of a tokio runtime of observe's own, started
//! whatever runtime the application uses, or none. Its threads carry a no-op tracing
//! dispatcher, so the exporters' own hyper/h2/tonic spans and events never feed back into
//! the pipeline.

use tracing::Dispatch;

use super::ExportError;

/// The prefix of every export thread's name.
pub(crate) const THREAD_NAME: &str = "observe-export";

/// A runtime for one signal's exporter.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExportError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .thread_name(THREAD_NAME)
        .enable_all()
        .on_thread_start(|| {
            // The exporter's own spans and events go nowhere, for this thread's life.
            std::mem::forget(tracing::dispatcher::set_default(&Dispatch::none()));
        })
        .build()
        .map_err(ExportError::Runtime)
}

/// Runs `build` inside `runtime` (tonic starts its connection task there) with no tracing
/// dispatcher; shuts the runtime down without blocking when it fails.
pub(crate) fn build_in<T>(
    runtime: &tokio::runtime::Runtime,
    build: impl FnOnce() -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    let _enter = runtime.enter();
    tracing::dispatcher::with_default(&Dispatch::none(), build)
}
