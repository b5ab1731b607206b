//! [`Secret`]: a value that never shows in `Debug` output.

use std::fmt;

/// A value (an API token, a header value) whose `Debug` prints `[redacted]`.
///
/// ```
/// use observe_runtime::config::Secret;
/// let token = Secret::new("Bearer s3cr3t".to_string());
/// assert_eq!(format!("{token:?}"), "[redacted]");
/// assert_eq!(token.expose(), "Bearer s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    ///
    /// ```
    /// let s = observe_runtime::config::Secret::new(42);
    /// assert_eq!(*s.expose(), 42);
    /// ```
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The wrapped value; use it only where it must be sent, never to log.
    ///
    /// ```
    /// let s = observe_runtime::config::Secret::new("t");
    /// assert_eq!(*s.expose(), "t");
    /// ```
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Headers sent with every OTLP export: names in the clear, values redacted in `Debug`.
///
/// ```
/// use observe_runtime::config::Headers;
/// let h = Headers::from_pairs([("authorization", "Bearer s3cr3t")]);
/// assert_eq!(format!("{h:?}"), r#"{"authorization": [redacted]}"#);
/// assert_eq!(h.iter().next(), Some(("authorization", "Bearer s3cr3t")));
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Headers(Vec<(String, Secret<String>)>);

impl Headers {
    /// Builds headers from `(name, value)` pairs (not validated here; [`Config::resolve`]
    /// validates them).
    ///
    /// [`Config::resolve`]: super::Config::resolve
    ///
    /// ```
    /// let h = observe_runtime::config::Headers::from_pairs([("x-a", "1"), ("x-b", "2")]);
    /// assert_eq!(h.len(), 2);
    /// ```
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Headers(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), Secret::new(v.into())))
                .collect(),
        )
    }

    /// `(name, value)` pairs, values exposed: for sending only.
    ///
    /// ```
    /// let h = observe_runtime::config::Headers::from_pairs([("x-a", "1")]);
    /// assert_eq!(h.iter().collect::<Vec<_>>(), [("x-a", "1")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose().as_str()))
    }

    /// Number of headers.
    ///
    /// ```
    /// assert_eq!(observe_runtime::config::Headers::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    ///
    /// ```
    /// assert!(observe_runtime::config::Headers::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}
