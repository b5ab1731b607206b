//! `build_info`: which build of which service is running, as a gauge valued 1 that
//! dashboards and alerts join on (`* on (instance) group_left(version) build_info`).

use std::borrow::Cow;

use super::Metrics;

/// The gauge's name.
pub(crate) const BUILD_INFO: &str = "build_info";

/// The version and commit of the running build: the labels of the `build_info` gauge, and
/// the resource's `service.version` when the environment does not set one.
///
/// `observe::build_info!()` fills it in from the calling crate at compile time: its
/// `CARGO_PKG_VERSION`, and the commit from `VERGEN_GIT_SHA` (what the `vergen` build script
/// sets) or else `OBSERVE_BUILD_COMMIT` (set it yourself: `OBSERVE_BUILD_COMMIT=$(git
/// rev-parse HEAD) cargo build`).
///
/// ```
/// use observe_runtime::metrics::BuildInfo;
///
/// let info = BuildInfo::new("1.4.2", Some("9f05e9c"));
/// assert_eq!(info.version(), "1.4.2");
/// assert_eq!(info.commit(), Some("9f05e9c"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    version: Cow<'static, str>,
    commit: Option<Cow<'static, str>>,
}

impl BuildInfo {
    /// A build's version and, when known, its commit. An empty commit counts as unknown.
    ///
    /// ```
    /// use observe_runtime::metrics::BuildInfo;
    ///
    /// assert_eq!(BuildInfo::new("0.3.0", Some("")).commit(), None);
    /// ```
    pub fn new(
        version: impl Into<Cow<'static, str>>,
        commit: Option<impl Into<Cow<'static, str>>>,
    ) -> BuildInfo {
        BuildInfo {
            version: version.into(),
            commit: commit.map(Into::into).filter(|commit| !commit.is_empty()),
        }
    }

    /// The version (`CARGO_PKG_VERSION` of the service's crate).
    ///
    /// ```
    /// use observe_runtime::metrics::BuildInfo;
    ///
    /// assert_eq!(BuildInfo::new("2.0.0", None::<&str>).version(), "2.0.0");
    /// ```
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The commit the build was made from, when the build said.
    ///
    /// ```
    /// use observe_runtime::metrics::BuildInfo;
    ///
    /// assert_eq!(BuildInfo::new("2.0.0", None::<&str>).commit(), None);
    /// ```
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }
}

impl Metrics {
    /// Sets the `build_info` gauge to 1, labelled `version` and `commit` (each left out
    /// when unknown) and `service_name`, so that every other series can be joined with the build
    /// that produced it. [`init`](crate::init) calls it; call it yourself when you compose
    /// the layers by hand.
    ///
    /// ```
    /// use observe_runtime::metrics::{BuildInfo, Metrics, MetricsConfig};
    ///
    /// let metrics = Metrics::new(MetricsConfig::default()).unwrap();
    /// metrics.set_build_info(&BuildInfo::new("1.4.2", Some("9f05e9c")), "songs");
    /// assert!(metrics.render().contains(
    ///     r#"build_info{version="1.4.2",commit="9f05e9c",service_name="songs"} 1"#
    /// ));
    /// ```
    pub fn set_build_info(&self, info: &BuildInfo, service_name: &str) {
        let mut labels = Vec::with_capacity(3);
        if !info.version.is_empty() {
            labels.push(::metrics::Label::new("version", info.version.to_string()));
        }
        if let Some(commit) = &info.commit {
            labels.push(::metrics::Label::new("commit", commit.to_string()));
        }
        labels.push(::metrics::Label::new(
            "service_name",
            service_name.to_owned(),
        ));
        ::metrics::with_local_recorder(self.recorder(), || {
            ::metrics::describe_gauge!(
                BUILD_INFO,
                "The running build: its version, commit and service name, valued 1."
            );
            ::metrics::gauge!(BUILD_INFO, labels).set(1.0);
        });
    }
}
