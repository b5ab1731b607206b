//! Vendor look-ups: real outgoing HTTP calls that carry the trace context, and the stub
//! vendor route that answers them (on this same server, over loopback).

use std::fmt;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{Path, Query};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use observe::observe;
use serde::{Deserialize, Serialize};

/// The vendors every new song is looked up at.
pub(crate) const VENDORS: [&str; 2] = ["acme", "globex"];

/// The route of the stub vendor: [`offers`].
pub(crate) const OFFERS_ROUTE: &str = "/vendors/{vendor}/offers";

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Offer {
    pub vendor: String,
    pub title: String,
    pub price_cents: u64,
}

#[derive(Debug)]
pub(crate) struct VendorError(String);

impl fmt::Display for VendorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vendor look-up failed: {}", self.0)
    }
}

impl std::error::Error for VendorError {}

pub(crate) struct VendorClient {
    base: String,
    http: Client<HttpConnector, Empty<Bytes>>,
}

impl VendorClient {
    pub(crate) fn new(server: SocketAddr) -> Self {
        VendorClient {
            base: format!("http://{server}"),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Runs after the request that spawned it answered, so `track_concurrency`'s
    /// `function_calls_in_flight{function="lookup"}` shows the calls still waiting on vendors.
    #[observe(
        otel_kind = "client",
        skip(self, title),
        fields(vendor = vendor),
        err,
        track_concurrency
    )]
    pub(crate) async fn lookup(
        &self,
        vendor: &'static str,
        title: &str,
    ) -> Result<Offer, VendorError> {
        let uri = format!(
            "{}/vendors/{vendor}/offers?title={}",
            self.base,
            percent_encode(title)
        );
        let mut request = http::Request::get(uri)
            .body(Empty::new())
            .map_err(|e| VendorError(e.to_string()))?;
        // The vendor's server span joins this trace.
        observe::runtime::http::inject_trace_context(request.headers_mut());
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| VendorError(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| VendorError(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(VendorError(format!("{vendor} answered {status}")));
        }
        let offer: Offer = serde_json::from_slice(&body).map_err(|e| VendorError(e.to_string()))?;
        tracing::info!(price_cents = offer.price_cents, "offer received");
        Ok(offer)
    }
}

#[derive(Deserialize)]
pub(crate) struct OfferQuery {
    title: String,
}

/// `GET /vendors/{vendor}/offers?title=…`: a deterministic price per vendor and title.
pub(crate) async fn offers(
    Path(vendor): Path<String>,
    Query(query): Query<OfferQuery>,
) -> Json<Offer> {
    let price_cents = 99
        + query
            .title
            .bytes()
            .chain(vendor.bytes())
            .map(u64::from)
            .sum::<u64>()
            % 200;
    Json(Offer {
        vendor,
        title: query.title,
        price_cents,
    })
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
