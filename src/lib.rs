//! Logs, metrics and traces for a Rust service from one attribute.
//!
//! - [`observe`](macro@observe) instruments a function: a `tracing` span with its context fields, a
//!   Prometheus counter and latency histogram (`<metric>_total`,
//!   `<metric>_duration_seconds`, labelled by your labels and `result`), and an
//!   OpenTelemetry span.
//! - [`observe_async!`] instruments a future (typically a spawned task) with a new root
//!   span linked to the span that spawned it.
//! - [`runtime`] turns those spans into log lines, metrics and OTLP exports:
//!   [`runtime::init`] sets it all up from the environment.
//!
//! ```
//! use observe::observe;
//!
//! #[observe(metric = "checkout", labels(region = "eu"), err)]
//! fn checkout(items: u32) -> Result<u32, String> {
//!     if items == 0 { Err("empty cart".into()) } else { Ok(items * 5) }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let guard = observe::runtime::init()?; // keep it: dropping it flushes
//! assert_eq!(checkout(2), Ok(10));
//! assert!(checkout(0).is_err());
//! assert!(guard.metrics_text().contains(r#"checkout_total{region="eu",result="error"} 1"#));
//! # Ok(())
//! # }
//! ```
//!
//! The names, formats and behaviour you can rely on (every option, the span fields, the log
//! line format, the metric names, the filters, every environment variable, the OTLP data)
//! are in the [reference](mod@reference). The README has a longer quick start and the set-up of a
//! collector and of Prometheus.
//!
//! The macros' expansions name everything through `observe` itself, so a crate using them
//! needs no `tracing` dependency (add one only to write your own `tracing::info!` etc.).
//!
//! Features (both on by default): `http`, the tower/axum layer for HTTP server spans
//! (`runtime::http`); `otlp`, export over OTLP. Without `otlp`, observe writes log lines
//! and serves metrics and compiles none of the OpenTelemetry, gRPC and TLS crates.

extern crate self as observe;

/// Instruments a function; see the option table below.
///
/// ```
/// use observe::observe;
///
/// #[derive(Debug)]
/// struct Event { kind: &'static str }
///
/// // Not `Debug`: `self` is left out of the span (`event` is recorded).
/// struct Db { table: String }
///
/// impl Db {
///     // Counter `db_event_total{event_table, event_type, result}` and histogram
///     // `db_event_duration_seconds{..}`; an OTel client span; an `error` event on `Err`,
///     // after `observe.result = "error"` is recorded on the span.
///     #[observe(metric = "db_event",
///               labels(event_table = self.table.as_str(), event_type = %event.kind),
///               otel_kind = "client", err)]
///     fn save_event(&self, event: &Event) -> Result<(), String> {
///         if event.kind.is_empty() {
///             return Err("event without a kind".into());
///         }
///         Ok(())
///     }
/// }
///
/// // Without `metric`: `function_calls_total{function="checksum", module="..."}`; the
/// // span is named `bytes.checksum` (a bare string names it, as with `#[instrument]`).
/// #[observe("bytes.checksum", skip(data), ret)]
/// fn checksum(data: &[u8]) -> u32 {
///     data.iter().map(|&b| u32::from(b)).sum()
/// }
///
/// let db = Db { table: "events".into() };
/// assert!(db.save_event(&Event { kind: "song" }).is_ok());
/// assert!(db.save_event(&Event { kind: "" }).is_err()); // recorded as result="error"
/// assert_eq!(checksum(b"ab"), 195);
/// ```
///
/// `async fn`, `async fn` in trait impls and `#[async_trait]` methods work the same;
/// with async-trait, `#[async_trait]` goes on the `impl` block and `#[observe]` on the
/// method (async-trait expands first and `#[observe]` instruments the future it builds):
///
/// ```
/// use observe::observe;
///
/// #[async_trait::async_trait]
/// trait Store {
///     async fn get(&self, key: &str) -> Result<u32, String>;
/// }
///
/// #[derive(Debug)]
/// struct Remote;
///
/// #[async_trait::async_trait]
/// impl Store for Remote {
///     #[observe(metric = "remote_get", labels(key = key), otel_kind = "client")]
///     async fn get(&self, key: &str) -> Result<u32, String> {
///         let n: u32 = key.len().try_into().map_err(|_| "too long".to_string())?;
///         Ok(n)
///     }
/// }
///
/// #[observe(err)]
/// async fn fetch(url: &str) -> Result<usize, String> {
///     Ok(url.len())
/// }
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     assert_eq!(Remote.get("abc").await, Ok(3));
///     assert_eq!(fetch("x").await, Ok(1));
/// });
/// ```
///
/// `ok_if` and `error_if` choose what counts as an error; here a missing key is an answer,
/// not a failure, and an empty result is one. The `result` label shows it:
///
/// ```
/// use observe::observe;
/// use observe::runtime::metrics::{Metrics, MetricsConfig};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// #[derive(Debug)]
/// enum ApiError { NotFound, Unavailable }
///
/// fn not_found(r: &Result<u32, ApiError>) -> bool {
///     matches!(r, Err(ApiError::NotFound))
/// }
///
/// #[observe(metric = "get_song", ok_if = not_found)]
/// fn get_song(id: u32) -> Result<u32, ApiError> {
///     match id {
///         0 => Err(ApiError::NotFound),
///         1 => Err(ApiError::Unavailable),
///         n => Ok(n),
///     }
/// }
///
/// #[observe(metric = "search", error_if = |r| matches!(r, Ok(v) if v.is_empty()))]
/// fn search(query: &str) -> Result<Vec<u32>, ApiError> {
///     Ok(query.bytes().map(u32::from).collect())
/// }
///
/// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
/// let subscriber = tracing_subscriber::registry().with(metrics.layer());
/// tracing::subscriber::with_default(subscriber, || {
///     for id in [0, 1, 2] {
///         let _ = get_song(id);
///     }
///     let _ = search("");
/// });
/// let text = metrics.render();
/// assert!(text.contains(r#"get_song_total{result="ok"} 2"#)); // 0 (NotFound) and 2
/// assert!(text.contains(r#"get_song_total{result="error"} 1"#)); // 1 (Unavailable)
/// assert!(text.contains(r#"search_total{result="error"} 1"#)); // Ok(vec![])
/// ```
///
/// On an `impl` block, `#[observe]` observes every method; a method's own options add to
/// or override the block's, and `#[observe(ignore)]` leaves one out:
///
/// ```
/// use observe::observe;
/// use observe::runtime::metrics::{Metrics, MetricsConfig};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// pub struct Songs { table: &'static str }
///
/// #[observe(metric = "songs", labels(table = self.table), skip(self), err)]
/// impl Songs {
///     pub fn get(&self, id: u32) -> Result<u32, String> {
///         if id == 0 { Err("no song 0".into()) } else { Ok(id) }
///     }
///
///     // Its `op` label is added, its `level` replaces the block's default.
///     #[observe(labels(op = "count"), level = "debug")]
///     pub fn count(&self) -> usize { 3 }
///
///     #[observe(ignore)]
///     pub fn table(&self) -> &str { self.table }
/// }
///
/// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
/// let subscriber = tracing_subscriber::registry().with(metrics.layer());
/// let songs = Songs { table: "songs" };
/// tracing::subscriber::with_default(subscriber, || {
///     let _ = (songs.get(0), songs.get(1), songs.count(), songs.table());
/// });
/// let text = metrics.render();
/// assert!(text.contains(r#"songs_total{table="songs",result="ok"} 1"#));
/// assert!(text.contains(r#"songs_total{table="songs",result="error"} 1"#));
/// assert!(text.contains(r#"songs_total{table="songs",op="count",result="ok"} 1"#));
/// ```
///
/// `objective(..)` and `track_concurrency` are recorded in the registry of observed
/// functions (`observe::runtime::observed`), from which the runtime labels the series
/// and keeps the `<metric>_in_flight` gauge. Every observed function is there before its
/// first call, and so are its labels when they are literals: those series can exist from
/// the start.
///
/// ```
/// use observe::observe;
/// use observe::runtime::observed;
///
/// #[observe(
///     metric = "checkout",
///     labels(tier = "gold"),
///     objective(name = "api", success = 99.9, latency = ("250ms", 99.0)),
///     track_concurrency
/// )]
/// async fn checkout() -> Result<(), String> {
///     Ok(())
/// }
///
/// // The registry holds every observed function linked into the binary: rustdoc links
/// // these examples together, and the crate's first one observes a `checkout` too.
/// let entry = observed::observed_functions()
///     .iter()
///     .find(|f| f.metric == "checkout" && f.objective.is_some())
///     .unwrap();
/// assert_eq!(entry.labels, Some(&[("tier", "gold")][..]));
/// assert!(entry.track_concurrency);
/// let objective = entry.objective.unwrap();
/// assert_eq!((objective.name, objective.success), ("api", Some("99.9")));
/// assert_eq!(objective.latency, Some((0.25, "99"))); // seconds, and the target as written
/// ```
#[doc(inline)]
pub use observe_macros::observe;

/// Instruments a future with a new root span that follows from the current one.
///
/// ```
/// use observe::observe_async;
///
/// async fn process(batch: u32) -> Result<u32, String> {
///     tracing::info!(batch, "processing");
///     Ok(batch * 2)
/// }
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let request = tracing::info_span!("request");
///     let _entered = request.enter();
///     // The task gets its own trace (parent: None) with a link to `request`.
///     let task = tokio::spawn(observe_async!(
///         "songs.process",
///         process(21),
///         metric = "songs_process",
///         labels(queue = "songs"),
///         otel_kind = "consumer",
///     ));
///     assert_eq!(task.await.unwrap(), Ok(42));
/// });
/// ```
#[doc(inline)]
pub use observe_macros::observe_async;

pub use observe_runtime as runtime;

mod build_info;

/// The reference: the contract of observe, in one page (also `docs/reference.md` in the
/// repository).
#[doc = include_str!("../docs/reference.md")]
pub mod reference {}

#[doc(hidden)]
pub mod __private;

/// The README's examples, compiled and run as doctests so the quick start cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
