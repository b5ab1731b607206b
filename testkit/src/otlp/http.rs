//! OTLP/HTTP with protobuf bodies: `POST /v1/traces`, `/v1/metrics` and `/v1/logs` on axum,
//! answering as the OTLP specification says (a protobuf `Export*ServiceResponse` on
//! success, a protobuf `google.rpc.Status` with a readable message on a 4xx).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::store::{Signal, Store};

/// The paths the receiver serves, relative to its endpoint.
pub(crate) const TRACES_PATH: &str = "/v1/traces";
pub(crate) const METRICS_PATH: &str = "/v1/metrics";
pub(crate) const LOGS_PATH: &str = "/v1/logs";

/// The OpenTelemetry Collector's default `max_request_body_size` (20 MiB), instead of
/// axum's 2 MiB, so a large batch is refused here only where a collector would refuse it.
const BODY_LIMIT: usize = 20 * 1024 * 1024;

const PROTOBUF: &str = "application/x-protobuf";

/// Serves the three export routes on every connection `listener` yields, until the task is
/// dropped.
pub(crate) async fn serve<L>(store: Arc<Store>, listener: L)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let app = Router::new()
        .route(TRACES_PATH, post(export::<ExportTraceServiceRequest>))
        .route(METRICS_PATH, post(export::<ExportMetricsServiceRequest>))
        .route(LOGS_PATH, post(export::<ExportLogsServiceRequest>))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(store);
    // `serve` only returns on a listener error, which ours (a channel) never has.
    let _ = axum::serve(listener, app).await;
}

/// Header names (lowercase) and values, in arrival order; a non-UTF-8 value is read lossily.
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn export<R: Signal>(
    State(store): State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match decode::<R>(&headers, body) {
        Ok(request) => request,
        Err((status, message)) => {
            store.rejected();
            return refuse(status, message);
        }
    };
    store.push(header_pairs(&headers), request);
    (
        [(header::CONTENT_TYPE, PROTOBUF)],
        R::Response::default().encode_to_vec(),
    )
        .into_response()
}

fn decode<R: Signal>(headers: &HeaderMap, body: Bytes) -> Result<R, (StatusCode, String)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case(PROTOBUF) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content-type is {content_type:?}; this receiver takes {PROTOBUF} only"),
        ));
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        let encoding = String::from_utf8_lossy(encoding.as_bytes());
        if !encoding.trim().eq_ignore_ascii_case("identity") {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-encoding {encoding:?} is not supported; send uncompressed"),
            ));
        }
    }
    R::decode(body).map_err(|e| (StatusCode::BAD_REQUEST, format!("bad protobuf body: {e}")))
}

/// `google.rpc.Status`, the body OTLP/HTTP puts on every 4xx and 5xx. Declared here
/// because opentelemetry-proto does not generate it.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn refuse(status: StatusCode, message: String) -> Response {
    // gRPC's INVALID_ARGUMENT: every refusal here is about the request's form.
    const INVALID_ARGUMENT: i32 = 3;
    let body = RpcStatus {
        code: INVALID_ARGUMENT,
        message,
    };
    (
        status,
        [(header::CONTENT_TYPE, PROTOBUF)],
        body.encode_to_vec(),
    )
        .into_response()
}
