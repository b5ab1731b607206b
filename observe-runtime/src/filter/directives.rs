//! [`SignalFilter`]: one signal's filter, in `EnvFilter` syntax.

use std::fmt;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Targets of the OTLP exporter's own dependencies. Every filter turns them off unless its
/// directives name them: their telemetry about exporting telemetry would otherwise feed
/// back into the pipeline. `EnvFilter` matches by prefix, so `tower` covers `tower_http`
/// and `opentelemetry` covers `opentelemetry_sdk` and the rest.
pub(crate) const EXPORTER_TARGETS: [&str; 6] = [
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "opentelemetry",
];

/// What one signal's filter decides about a callsite, once for all its spans or events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Decision {
    Never = 0,
    Always = 1,
    /// Decided per span or event (span and field directives).
    Dynamic = 2,
}

/// A filter for one signal (log lines, metrics or exported spans), in
/// [`EnvFilter`](tracing_subscriber::EnvFilter) syntax: `info`, `warn,app=debug`,
/// `info,app[request{user=ada}]=trace`, `off`.
///
/// Plain `target=level` directives are decided once per callsite, without any per-span
/// state (as a [`Targets`]); span and field directives take an `EnvFilter`.
///
/// ```
/// use observe_runtime::filter::SignalFilter;
///
/// let filter = SignalFilter::new("warn,songs=debug").unwrap();
/// assert_eq!(filter.directives(), "warn,songs=debug");
/// assert!(SignalFilter::new("info,=x=").is_err());
/// ```
pub struct SignalFilter {
    directives: String,
    kind: Kind,
}

enum Kind {
    Targets(Box<Targets>),
    Env(Box<EnvFilter>),
}

/// Directives that are not valid `EnvFilter` syntax.
///
/// ```
/// let err = observe_runtime::filter::SignalFilter::new("info,a=loud").unwrap_err();
/// assert!(err.to_string().contains("info,a=loud"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    directives: String,
    problem: String,
}

impl FilterError {
    /// What is wrong with the directives.
    ///
    /// ```
    /// let err = observe_runtime::filter::SignalFilter::new("a=b=c").unwrap_err();
    /// assert!(!err.problem().is_empty());
    /// ```
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid filter {:?}: {}", self.directives, self.problem)
    }
}

impl std::error::Error for FilterError {}

impl fmt::Debug for SignalFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SignalFilter")
            .field(&self.directives)
            .finish()
    }
}

impl SignalFilter {
    /// Parses `directives` (blanks around commas are ignored).
    ///
    /// # Errors
    /// [`FilterError`] when they are not valid `EnvFilter` directives.
    ///
    /// ```
    /// use observe_runtime::filter::SignalFilter;
    /// assert!(SignalFilter::new(" info , songs=trace ").is_ok());
    /// ```
    pub fn new(directives: &str) -> Result<SignalFilter, FilterError> {
        let directives = normalise(directives);
        let env = env_filter(&directives)?;
        let kind = match simple_targets(&directives) {
            Some(targets) => Kind::Targets(Box::new(targets)),
            None => Kind::Env(Box::new(env)),
        };
        Ok(SignalFilter { directives, kind })
    }

    /// A filter that admits every span and event but the exporter's own.
    ///
    /// ```
    /// let all = observe_runtime::filter::SignalFilter::all();
    /// assert_eq!(all.directives(), "trace");
    /// ```
    pub fn all() -> SignalFilter {
        SignalFilter::new("trace").expect("a valid directive")
    }

    /// The directives, normalised.
    pub fn directives(&self) -> &str {
        &self.directives
    }

    /// Whether this filter needs per-span state (span or field directives).
    pub(crate) fn is_dynamic(&self) -> bool {
        matches!(self.kind, Kind::Env(_))
    }

    pub(crate) fn decide<S>(&self, metadata: &'static Metadata<'static>) -> Decision
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match &self.kind {
            Kind::Targets(targets) => {
                if targets.would_enable(metadata.target(), metadata.level()) {
                    Decision::Always
                } else {
                    Decision::Never
                }
            }
            Kind::Env(env) => {
                let interest = <EnvFilter as Layer<S>>::register_callsite(env, metadata);
                if interest.is_always() {
                    Decision::Always
                } else if interest.is_never() {
                    Decision::Never
                } else {
                    Decision::Dynamic
                }
            }
        }
    }

    /// The per-span or per-event answer, for a callsite whose decision is
    /// [`Decision::Dynamic`].
    pub(crate) fn enabled_now<S>(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        match &self.kind {
            Kind::Targets(targets) => targets.would_enable(metadata.target(), metadata.level()),
            Kind::Env(env) => env.enabled(metadata, ctx),
        }
    }

    pub(crate) fn max_level(&self) -> LevelFilter {
        match &self.kind {
            Kind::Targets(targets) => targets.default_level().map_or_else(
                || {
                    targets
                        .iter()
                        .map(|(_, level)| level)
                        .max()
                        .unwrap_or(LevelFilter::OFF)
                },
                |default| {
                    targets
                        .iter()
                        .map(|(_, level)| level)
                        .fold(default, std::cmp::max)
                },
            ),
            Kind::Env(env) => EnvFilter::max_level_hint(env).unwrap_or(LevelFilter::TRACE),
        }
    }

    /// The span bookkeeping an `EnvFilter` with span directives needs; nothing otherwise.
    pub(crate) fn on_new_span<S: Subscriber>(
        &self,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: Context<'_, S>,
    ) {
        if let Kind::Env(env) = &self.kind {
            env.on_new_span(attrs, id, ctx);
        }
    }

    pub(crate) fn on_record<S: Subscriber>(
        &self,
        id: &Id,
        values: &Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Kind::Env(env) = &self.kind {
            env.on_record(id, values, ctx);
        }
    }

    pub(crate) fn on_enter<S: Subscriber>(&self, id: &Id, ctx: Context<'_, S>) {
        if let Kind::Env(env) = &self.kind {
            env.on_enter(id, ctx);
        }
    }

    pub(crate) fn on_exit<S: Subscriber>(&self, id: &Id, ctx: Context<'_, S>) {
        if let Kind::Env(env) = &self.kind {
            env.on_exit(id, ctx);
        }
    }

    pub(crate) fn on_close<S: Subscriber>(&self, id: Id, ctx: Context<'_, S>) {
        if let Kind::Env(env) = &self.kind {
            env.on_close(id, ctx);
        }
    }
}

impl std::str::FromStr for SignalFilter {
    type Err = FilterError;

    fn from_str(directives: &str) -> Result<SignalFilter, FilterError> {
        SignalFilter::new(directives)
    }
}

/// Trims the blanks around each comma-separated directive. tracing-subscriber 0.3 parses a
/// directive with the character offsets of its trimmed text but slices the untrimmed text:
/// `"info, h2=off"` silently filters target `" h"` instead of `h2`, and a blank before a
/// non-ASCII character (`"\ta¡="`) panics instead of returning an error.
pub(crate) fn normalise(directives: &str) -> String {
    directives
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}

/// The directives as an `EnvFilter`, plus `off` for the exporter's crates unless named.
fn env_filter(directives: &str) -> Result<EnvFilter, FilterError> {
    let mut filter = EnvFilter::try_new(directives).map_err(|e| FilterError {
        directives: directives.to_owned(),
        problem: e.to_string(),
    })?;
    for target in EXPORTER_TARGETS {
        if !directives.contains(target)
            && let Ok(directive) = format!("{target}=off").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    Ok(filter)
}

/// `directives` as [`Targets`], when they are only `level`, `target` and `target=level`
/// directives in the plainest spelling (so that both filters read them alike).
fn simple_targets(directives: &str) -> Option<Targets> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '=' | ',' | '-');
    if directives.is_empty()
        || !directives.chars().all(plain)
        || directives
            .split(',')
            .any(|d| d.is_empty() || d.matches('=').count() > 1)
    {
        return None;
    }
    let mut targets: Targets = directives.parse().ok()?;
    for target in EXPORTER_TARGETS {
        if !directives.contains(target) {
            targets = targets.with_target(target, LevelFilter::OFF);
        }
    }
    Some(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    /// What a filter lets through, for a fixed set of targets and levels.
    fn decisions(
        filter: impl tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync,
    ) -> Vec<bool> {
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || {
            macro_rules! probe {
                ($($target:literal),*) => {
                    vec![$(
                        tracing::enabled!(target: $target, Level::ERROR),
                        tracing::enabled!(target: $target, Level::WARN),
                        tracing::enabled!(target: $target, Level::INFO),
                        tracing::enabled!(target: $target, Level::DEBUG),
                        tracing::enabled!(target: $target, Level::TRACE),
                    )*]
                };
            }
            probe!(
                "app",
                "app::db",
                "app_other",
                "h2",
                "hyper_util",
                "tonic::transport",
                "x"
            )
        })
    }

    #[test]
    fn plain_directives_use_targets_and_decide_like_env_filter() {
        for directives in [
            "info",
            "warn,app=debug",
            "app::db=trace,app=warn",
            "off,app=info",
            "app",
            "TRACE",
            "3,hyper=debug",
            "debug,h2=info",
        ] {
            let targets = simple_targets(directives).expect(directives);
            let env = env_filter(directives).unwrap();
            assert_eq!(decisions(targets), decisions(env), "{directives}");
        }
    }

    #[test]
    fn span_and_field_directives_keep_env_filter() {
        for directives in [
            "info,app[req]=debug",
            "app[{user=ada}]=trace",
            "info,",
            "a=b=c",
            "x y",
        ] {
            assert!(simple_targets(directives).is_none(), "{directives}");
        }
        assert!(
            SignalFilter::new("info,app[req]=debug")
                .unwrap()
                .is_dynamic()
        );
        assert!(!SignalFilter::new("info").unwrap().is_dynamic());
    }

    #[test]
    fn max_levels() {
        let level = |d: &str| SignalFilter::new(d).unwrap().max_level();
        assert_eq!(level("info"), LevelFilter::INFO);
        assert_eq!(level("warn,app=debug"), LevelFilter::DEBUG);
        assert_eq!(level("off"), LevelFilter::OFF);
        assert_eq!(level("app=trace"), LevelFilter::TRACE);
    }

    #[test]
    fn bad_directives_name_themselves() {
        let err = SignalFilter::new("info,a=loud").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid filter \"info,a=loud\": "),
            "{err}"
        );
    }
}
