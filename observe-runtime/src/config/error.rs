//! [`ConfigError`]: a bad setting, naming where it came from.

use std::fmt;

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable, e.g. `OTEL_EXPORTER_OTLP_PROTOCOL`.
    Env(&'static str),
    /// A [`Config`](super::Config) builder method, e.g. `Config::histogram_buckets`.
    Code(&'static str),
}

/// A setting that could not be used. Its `Display` names the variable (or the builder method)
/// and the value's problem, e.g.
/// `OTEL_EXPORTER_OTLP_PROTOCOL="http/xml": unknown protocol; expected "grpc" or "http/protobuf"`.
///
/// Values of secret settings (the OTLP header variables) are never echoed.
///
/// ```
/// use observe_runtime::config::Config;
///
/// let env = |name: &str| (name == "OTEL_EXPORTER_OTLP_PROTOCOL").then(|| "http/xml".to_string());
/// let err = Config::new().resolve_with(env, "svc").unwrap_err();
/// assert_eq!(err.variable(), "OTEL_EXPORTER_OTLP_PROTOCOL");
/// assert_eq!(
///     err.to_string(),
///     r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/xml": unknown protocol; expected "grpc" or "http/protobuf""#
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    origin: Origin,
    /// `None` for secrets: never shown.
    value: Option<String>,
    problem: String,
}

impl ConfigError {
    pub(crate) fn env(variable: &'static str, value: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            origin: Origin::Env(variable),
            value: Some(value.to_owned()),
            problem: problem.into(),
        }
    }

    pub(crate) fn env_secret(variable: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            origin: Origin::Env(variable),
            value: None,
            problem: problem.into(),
        }
    }

    pub(crate) fn code(
        method: &'static str,
        value: Option<String>,
        problem: impl Into<String>,
    ) -> Self {
        ConfigError {
            origin: Origin::Code(method),
            value,
            problem: problem.into(),
        }
    }

    /// The environment variable (e.g. `OTEL_TRACES_SAMPLER`) or builder method
    /// (e.g. `Config::histogram_buckets`) that held the bad value.
    ///
    /// ```
    /// use observe_runtime::config::Config;
    /// let err = Config::new().cardinality_limit(0).resolve_with(|_| None, "svc").unwrap_err();
    /// assert_eq!(err.variable(), "Config::cardinality_limit");
    /// ```
    pub fn variable(&self) -> &'static str {
        match self.origin {
            Origin::Env(v) | Origin::Code(v) => v,
        }
    }

    /// Whether the bad value came from the environment or from code.
    ///
    /// ```
    /// use observe_runtime::config::{Config, Origin};
    /// let env = |n: &str| (n == "OBSERVE_LOG_LOSSY").then(|| "maybe".to_string());
    /// let err = Config::new().resolve_with(env, "svc").unwrap_err();
    /// assert_eq!(err.origin(), Origin::Env("OBSERVE_LOG_LOSSY"));
    /// ```
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// What is wrong with the value, without the variable or value.
    ///
    /// ```
    /// use observe_runtime::config::Config;
    /// let env = |n: &str| (n == "OBSERVE_LOG_LOSSY").then(|| "maybe".to_string());
    /// let err = Config::new().resolve_with(env, "svc").unwrap_err();
    /// assert_eq!(err.problem(), r#"expected "true" or "false""#);
    /// ```
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.variable())?;
        if let Some(value) = &self.value {
            write!(f, "={value:?}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// Reads like `Display`: `main` returning this error prints its `Debug`, and a user must
/// see which variable to fix, not a struct dump.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {}
