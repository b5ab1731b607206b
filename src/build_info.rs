//! `build_info!()`: the calling crate's version and commit, read when it is compiled.

/// The version and commit of the crate that calls it, for
/// [`Config::build_info`](crate::runtime::config::Config::build_info): `CARGO_PKG_VERSION`,
/// and the commit from `VERGEN_GIT_SHA` (set by the `vergen` build script) or else
/// `OBSERVE_BUILD_COMMIT` (`OBSERVE_BUILD_COMMIT=$(git rev-parse HEAD) cargo build`), each
/// read at compile time. A macro because only the service's own crate knows them: a
/// function in observe would report observe's version.
///
/// ```
/// let info = observe::build_info!();
/// assert_eq!(info.version(), env!("CARGO_PKG_VERSION"));
///
/// let config = observe::runtime::config::Config::new().build_info(observe::build_info!());
/// # let _ = config;
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::runtime::metrics::BuildInfo::new(
            ::core::env!("CARGO_PKG_VERSION"),
            match ::core::option_env!("VERGEN_GIT_SHA") {
                ::core::option::Option::Some(commit) => ::core::option::Option::Some(commit),
                ::core::option::Option::None => ::core::option_env!("OBSERVE_BUILD_COMMIT"),
            },
        )
    };
}
