//! Compile-time behaviour of `#[observe]` and `observe_async!` (trybuild): every supported
//! function form compiles, every mistake is a clear error at the offending token.
//! Regenerate expected output with `TRYBUILD=overwrite cargo test -p observe --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
