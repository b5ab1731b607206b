//! The callee's side: an HTTP server that keeps the header fields of every call it gets,
//! repeated fields included, by the call's path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;

/// A call's header fields, names in lowercase (as HTTP/1.1 servers hand them over), in the
/// order they came.
pub(crate) type Fields = Vec<(String, String)>;

/// Every arrival of each call: a call that came twice shows as two entries.
type Calls = Arc<Mutex<HashMap<String, Vec<Fields>>>>;

#[derive(Clone)]
pub(crate) struct Capture {
    addr: SocketAddr,
    calls: Calls,
}

impl Capture {
    /// Serves on `listener` from the current tokio runtime.
    pub(crate) fn serve(listener: std::net::TcpListener) -> Capture {
        let addr = listener.local_addr().unwrap();
        let calls = Calls::default();
        let app = Router::new()
            .route("/calls/{id}", post(record))
            .with_state(calls.clone());
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Capture { addr, calls }
    }

    /// The URL a call named `id` is made to.
    pub(crate) fn url(&self, id: &str) -> String {
        format!("http://{}/calls/{id}", self.addr)
    }

    /// The header fields of each arrival of the call named `id`.
    pub(crate) fn take(&self, id: &str) -> Vec<Fields> {
        self.calls.lock().unwrap().remove(id).unwrap_or_default()
    }
}

async fn record(
    State(calls): State<Calls>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> axum::Json<serde_json::Value> {
    let fields = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    calls.lock().unwrap().entry(id).or_default().push(fields);
    axum::Json(serde_json::Value::Null)
}
