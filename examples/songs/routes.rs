//! The HTTP routes, wrapped in observe's server-span middleware.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use observe::runtime::http::ObserveLayer;
use observe::runtime::metrics::Metrics;
use observe::{observe, observe_async};
use serde::Serialize;

use crate::repository::{Event, EventKind, Repository, Song, StorageError};
use crate::vendor::{self, VENDORS, VendorClient};

pub(crate) struct AppState {
    repository: Repository,
    vendors: VendorClient,
}

impl AppState {
    pub(crate) fn new(server: SocketAddr) -> Self {
        AppState {
            repository: Repository::new("songs"),
            vendors: VendorClient::new(server),
        }
    }
}

pub(crate) fn router(state: Arc<AppState>, metrics: Metrics) -> Router {
    Router::new()
        .route("/songs", post(create_song))
        .route("/songs/{id}", get(find_song))
        .route(vendor::OFFERS_ROUTE, get(vendor::offers))
        .with_state(state)
        .route(
            "/metrics",
            get(move |headers: HeaderMap| async move { exposition(&metrics, &headers) }),
        )
        .layer(ObserveLayer::new())
}

/// `/metrics` in the format the scraper asks for: OpenMetrics 1.0, with exemplars, when its
/// `Accept` lists `application/openmetrics-text` (Prometheus does, by default); the text
/// format 0.0.4 otherwise.
fn exposition(metrics: &Metrics, headers: &HeaderMap) -> Response {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let scrape = metrics.scrape(Some(&accept.join(",")));
    ([(header::CONTENT_TYPE, scrape.content_type)], scrape.body).into_response()
}

#[derive(Serialize)]
struct Created {
    id: u64,
}

/// `POST /songs`. The objective sits on the handler rather than on the store because this
/// is what the caller waits for: a failed store is a 500 here, and spends the error budget.
/// Its labels are literals (`function`, `module`), so its series exist at 0 from the start
/// and the rules of `prometheus/observe-slo.rules.yml` have a rate from the first scrape on.
/// `function_calls_in_flight{function="create_song"}` counts the requests being handled.
#[observe(
    skip(state, song),
    objective(name = "songs_api", success = 99.0, latency = ("250ms", 99.0)),
    track_concurrency
)]
async fn create_song(
    State(state): State<Arc<AppState>>,
    Json(song): Json<Song>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state
        .repository
        .save_event(&Event {
            kind: EventKind::SongCreated,
            song: &song,
        })
        .await?;
    for vendor in VENDORS {
        let state = state.clone();
        let title = song.title.clone();
        // Its own root span, linked to this request's span: the look-up outlives the request.
        tokio::spawn(observe_async!(
            "songs.vendor_lookup",
            async move {
                let _ = state.vendors.lookup(vendor, &title).await;
            },
            fields(vendor = vendor)
        ));
    }
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn find_song(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
) -> Result<Json<Song>, ApiError> {
    state
        .repository
        .find(id)
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

enum ApiError {
    NotFound,
    Storage(StorageError),
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        ApiError::Storage(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such song").into_response(),
            ApiError::Storage(error) => {
                (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
            }
        }
    }
}
