//! The `#[observe]` attribute and the `observe_async!` macro.
