//! Stopping: on SIGTERM or Ctrl-C the server stops accepting, and the requests in flight get
//! a deadline. Without one, a client that sent half a request would keep the service up
//! until the orchestrator's SIGKILL, which loses the log lines and spans not yet flushed.

use std::time::Duration;

use tokio::task::JoinHandle;

/// Ctrl-C or SIGTERM.
pub(crate) async fn signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Waits, at most `deadline`, for the server (told to shut down gracefully) to finish its
/// requests in flight. Past it, the connections still open are left to the runtime, whose
/// shutdown drops them: their spans close as cancelled.
pub(crate) async fn finish(
    server: JoinHandle<std::io::Result<()>>,
    deadline: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    match tokio::time::timeout(deadline, server).await {
        Ok(served) => Ok(served??),
        Err(_) => {
            tracing::warn!(
                deadline_s = deadline.as_secs_f64(),
                "requests still in flight at the shutdown deadline; cutting them off"
            );
            Ok(())
        }
    }
}
