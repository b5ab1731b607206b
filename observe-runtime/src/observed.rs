//! The static registry of observed functions: one `'static` [`ObservedFn`] for every
//! `#[observe]` function and every `observe_async!` with a `metric`, gathered by the linker
//! into one slice, so that the runtime knows them all before the first call.
//!
//! What the runtime reads here:
//! - [`observed_functions`], at `init`: every series whose labels are known at compile
//!   time (the default `function` / `module` labels always are, `labels(k = "literal")`
//!   too) can be made at 0 for `result="ok"` and `result="error"` before any call. A label
//!   whose value comes from an argument (`labels(table = self.table)`) cannot be known in
//!   advance: such an entry has `labels: None`, and its series appear with the first call.
//! - [`find`], on a cold path (when a series is first made): the entry of a span's
//!   callsite, for its [`Objective`] labels.
//! - [`IN_FLIGHT`](crate::fields::IN_FLIGHT), declared (never recorded) by every span of a function with
//!   `track_concurrency`: the per-callsite marker, read from the metadata.
//!
//! The slice is a [linkme](https://docs.rs/linkme) distributed slice: each entry is a
//! `static` that the linker places in one section, with no code run before `main` and
//! nothing to register at start-up (inventory, the other well-kept crate for this, runs
//! one constructor per entry before `main`). Entries come from every crate linked into the
//! binary. On a target linkme does not support (its list: Linux, Android, Fuchsia, macOS,
//! iOS, tvOS, Windows, UEFI, FreeBSD, OpenBSD, illumos, PSP, bare metal), the registry is empty
//! and everything else works as before.
//!
//! What an expansion registers, written by hand (`#[observe(labels(tier = "gold"),
//! objective(name = "api", success = 99.9))] fn checkout()` registers this entry):
//!
//! ```
//! use observe_runtime::observed::{self, OBSERVE_0_FNS, ObservedFn, Objective};
//! use tracing_core::callsite::DefaultCallsite;
//! use tracing_core::field::FieldSet;
//! use tracing_core::{Kind, Level, Metadata, identify_callsite};
//!
//! static META: Metadata<'static> = Metadata::new(
//!     "checkout", "shop", Level::INFO, None, None, None,
//!     FieldSet::new(&["metric_name", "metric_label_function", "metric_label_module",
//!                     "metric_label_tier"], identify_callsite!(&CALLSITE)),
//!     Kind::SPAN,
//! );
//! static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
//!
//! #[observed::linkme::distributed_slice(OBSERVE_0_FNS)]
//! #[linkme(crate = observed::linkme)]
//! static ENTRY: ObservedFn = ObservedFn {
//!     callsite: &CALLSITE,
//!     metric: "function_calls",
//!     labels: Some(&[("function", "checkout"), ("module", "shop"), ("tier", "gold")]),
//!     objective: Some(&Objective { name: "api", success: Some("99.9"), latency: None }),
//!     track_concurrency: false,
//! };
//!
//! // Present before the first call, and found again from the span's metadata.
//! assert!(observed::observed_functions().iter().any(|f| std::ptr::eq(f, &ENTRY)));
//! assert!(std::ptr::eq(observed::find(&META).unwrap(), &ENTRY));
//! assert_eq!(observed::find(&META).unwrap().objective.unwrap().name, "api");
//! ```

use std::fmt;
use std::sync::OnceLock;

use tracing_core::Metadata;
use tracing_core::callsite::{Callsite as _, DefaultCallsite};

/// One observed function (or `observe_async!` site with a `metric`), as its expansion
/// registered it.
///
/// The macro builds it in a `static` initializer; nothing else should (the module's
/// example does, to show the shape).
///
/// ```
/// for entry in observe_runtime::observed::observed_functions() {
///     let span = entry.metadata().name();
///     let labels = entry.labels.map_or(0, <[_]>::len);
///     println!("{span}: {} with {labels} known labels", entry.metric);
/// }
/// ```
pub struct ObservedFn {
    /// The span's callsite (its metadata is the span's).
    pub callsite: &'static DefaultCallsite,
    /// The metric's base name: `<metric>_total`, `<metric>_duration_seconds`.
    /// `function_calls` when the function names none.
    pub metric: &'static str,
    /// The labels, in the order the span declares them (the order of the series' labels,
    /// before `result`), when every value is a literal known at compile time; `None` when a
    /// value comes from an argument or an expression.
    pub labels: Option<&'static [(&'static str, &'static str)]>,
    /// The function's objective. A reference, so that an entry without one stays small.
    pub objective: Option<&'static Objective>,
    /// `track_concurrency`: keep a `<metric>_in_flight` gauge of the calls in progress.
    pub track_concurrency: bool,
}

/// A service-level objective, as `objective(name = .., success = .., latency = (..))`
/// gave it. At least one of `success` and `latency` is set.
///
/// `objective(name = "api", success = 99.9, latency = ("250ms", 99.0))` is:
///
/// ```
/// use observe_runtime::observed::Objective;
///
/// let objective = Objective { name: "api", success: Some("99.9"), latency: Some((0.25, "99")) };
/// assert_eq!(objective.latency, Some((0.25, "99"))); // seconds, and the target as written
/// ```
///
/// The metrics carry it as labels: with `success`, the counter's series get
/// `objective_name` and `objective_percentile` (the success target); with `latency`, the
/// histogram's series get `objective_name`, `objective_percentile` (the latency target)
/// and `objective_latency_threshold` (the threshold in seconds, written exactly as the
/// `le` of its bucket: `0.25`, `3.0`), and their histograms a bucket at the threshold
/// when the configured buckets lack one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// The objective's name, shared by the functions that serve it (`"api"`).
    pub name: &'static str,
    /// The share of calls that must succeed, in percent, as Rust writes the `f64`
    /// (`99.9`, and `99` for `99.0`): the `objective_percentile` label value.
    pub success: Option<&'static str>,
    /// The latency threshold in seconds (`0.25` for `"250ms"`), and the share of calls, in
    /// percent, that must finish within it (as `success` writes it).
    pub latency: Option<(f64, &'static str)>,
}

impl ObservedFn {
    /// The span's metadata: its name, target, fields, and the address the runtime's
    /// per-callsite tables are keyed by.
    ///
    /// ```
    /// use observe_runtime::fields::IN_FLIGHT;
    /// use observe_runtime::observed::observed_functions;
    ///
    /// for entry in observed_functions() {
    ///     // The flag and the marker field say the same.
    ///     let marked = entry.metadata().fields().field(IN_FLIGHT).is_some();
    ///     assert_eq!(marked, entry.track_concurrency);
    /// }
    /// ```
    pub fn metadata(&self) -> &'static Metadata<'static> {
        self.callsite.metadata()
    }
}

impl fmt::Debug for ObservedFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = self.metadata();
        f.debug_struct("ObservedFn")
            .field("span", &meta.name())
            .field("module", &meta.module_path())
            .field("metric", &self.metric)
            .field("labels", &self.labels)
            .field("objective", &self.objective)
            .field("track_concurrency", &self.track_concurrency)
            .finish()
    }
}

/// Every entry linked into the binary, in no particular order.
///
/// Reading it costs nothing at start-up: the slice is the linker section itself.
///
/// ```
/// use observe_runtime::observed::observed_functions;
///
/// // What `init` can make before the first call: the series with known labels.
/// let known = observed_functions().iter().filter(|f| f.labels.is_some()).count();
/// assert!(known <= observed_functions().len());
/// ```
pub fn observed_functions() -> &'static [ObservedFn] {
    registry::entries()
}

/// The entry of the span whose metadata this is, if an expansion registered one.
///
/// Made for a cold path (a series' first observation): the first call sorts an index of
/// the entries by metadata address, later ones search it.
///
/// ```
/// use tracing::callsite::Callsite as _;
///
/// // A span no expansion registered has no entry.
/// let callsite = tracing::callsite!(name: "by hand", kind: tracing::metadata::Kind::SPAN, fields: []);
/// assert!(observe_runtime::observed::find(callsite.metadata()).is_none());
/// ```
pub fn find(metadata: &Metadata<'_>) -> Option<&'static ObservedFn> {
    static INDEX: OnceLock<Box<[&'static ObservedFn]>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index: Vec<&'static ObservedFn> = observed_functions().iter().collect();
        index.sort_unstable_by_key(|entry| address(entry.metadata()));
        index.into_boxed_slice()
    });
    let key = address(metadata);
    index
        .binary_search_by_key(&key, |entry| address(entry.metadata()))
        .ok()
        .map(|at| index[at])
}

fn address(metadata: &Metadata<'_>) -> usize {
    std::ptr::from_ref(metadata).addr()
}

/// The distributed slice, on the targets linkme supports (the same list, negated, guards
/// the empty registry below; keep the two equal).
#[cfg(any(
    target_os = "none",
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "windows",
    target_os = "uefi",
    target_os = "android",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "psp",
))]
mod registry {
    /// The path the expansion's `#[linkme(crate = ..)]` names, so that user crates need no
    /// linkme dependency of their own.
    #[doc(hidden)]
    pub use linkme;

    /// The slice. Its name is also its linker section's (`linkme_<NAME>`): it carries the
    /// crate's major version so that two semver-incompatible copies of observe-runtime in
    /// one binary keep two registries instead of tripping linkme's duplicate check.
    #[doc(hidden)]
    #[linkme::distributed_slice]
    pub static OBSERVE_0_FNS: [super::ObservedFn];

    pub(super) fn entries() -> &'static [super::ObservedFn] {
        &OBSERVE_0_FNS
    }
}

/// Elsewhere, an empty registry: the element the expansion writes is
/// `#[linkme::distributed_slice(OBSERVE_0_FNS)] static ..`, which linkme turns into a call
/// of the macro `OBSERVE_0_FNS! { .. }`; here that macro drops it.
#[cfg(not(any(
    target_os = "none",
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "windows",
    target_os = "uefi",
    target_os = "android",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "psp",
)))]
mod registry {
    #[doc(hidden)]
    pub use linkme;

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __observe_0_fns_unsupported {
        ($($element:tt)*) => {};
    }

    #[doc(hidden)]
    pub use crate::__observe_0_fns_unsupported as OBSERVE_0_FNS;

    pub(super) fn entries() -> &'static [super::ObservedFn] {
        &[]
    }
}

#[doc(hidden)]
pub use registry::{OBSERVE_0_FNS, linkme};
