//! [`ObserveLayer`]: the tower layer and its options.

use std::sync::Arc;

use http::HeaderName;
use tower::Layer;

use super::duration::Durations;
use super::service::ObserveService;

/// The header a request id is read from and echoed in, unless
/// [`request_id_header`](ObserveLayer::request_id_header) says otherwise.
///
/// ```
/// assert_eq!(observe_runtime::http::REQUEST_ID_HEADER, "x-request-id");
/// ```
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A tower layer that gives every HTTP request a server span, a request id and an
/// observation of `http_server_request_duration_seconds`.
///
/// Add it with `Router::layer` (not around the whole router from outside), so that axum's
/// `MatchedPath` is there to name the span `GET /users/{id}`; unmatched requests are named by
/// their method alone.
///
/// The span records the request line, `server.address`/`server.port` (from `Host`),
/// `client.address` (from axum's `ConnectInfo`, or `x-forwarded-for` when
/// [trusted](Self::trust_forwarded_for)), `user_agent.original` and nothing else from the
/// headers: `authorization`, `cookie`, `set-cookie` and `proxy-authorization` are never read.
/// Known credentials in the query string (`access_token=`, `sig=`, ...) are recorded as
/// `REDACTED`.
///
/// ```
/// use axum::{Router, routing::get};
/// use observe_runtime::http::ObserveLayer;
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "ada" }))
///     .layer(ObserveLayer::new());
/// // Serve it with connect info so that spans carry `client.address`:
/// // axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
/// # drop(app);
/// ```
#[derive(Clone, Debug)]
pub struct ObserveLayer {
    pub(crate) trust_forwarded_for: bool,
    pub(crate) request_id_header: HeaderName,
    pub(crate) durations: Arc<Durations>,
}

impl Default for ObserveLayer {
    fn default() -> Self {
        ObserveLayer {
            trust_forwarded_for: false,
            request_id_header: HeaderName::from_static(REQUEST_ID_HEADER),
            durations: Arc::default(),
        }
    }
}

impl ObserveLayer {
    /// A layer that does not trust `x-forwarded-for` and uses `x-request-id`.
    ///
    /// ```
    /// let layer = observe_runtime::http::ObserveLayer::new();
    /// # drop(layer);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `client.address` from the first address of `x-forwarded-for` (when it is an IP
    /// address) instead of the peer's socket address.
    ///
    /// Turn it on only behind a proxy that sets or overwrites the header: anyone can send
    /// one, so a directly exposed service would record whatever address a client claims.
    ///
    /// ```
    /// let behind_proxy = observe_runtime::http::ObserveLayer::new().trust_forwarded_for(true);
    /// # drop(behind_proxy);
    /// ```
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// Reads and echoes the request id in `header` instead of `x-request-id`.
    ///
    /// ```
    /// use http::HeaderName;
    ///
    /// let layer = observe_runtime::http::ObserveLayer::new()
    ///     .request_id_header(HeaderName::from_static("x-correlation-id"));
    /// # drop(layer);
    /// ```
    pub fn request_id_header(mut self, header: HeaderName) -> Self {
        self.request_id_header = header;
        self
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = ObserveService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObserveService {
            inner,
            layer: self.clone(),
        }
    }
}
