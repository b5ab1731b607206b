//! `#[observe]` under tracing-mock's `MockSubscriber`, held to the expectations that
//! tracing-attributes 0.1.31 writes for `#[instrument(err)]` and `#[instrument(ret)]` in its
//! own tests (`tests/err.rs`, `tests/ret.rs`), which is how users test their instrumented
//! code. Each test below is one of those, with `#[observe]` in place of `#[instrument]`.
//!
//! What makes them pass: the outcome guard records `observe.result` / `otel.status_code`
//! by span id, in one `record` call, and never clones or drops a span handle. A
//! `MockSubscriber` lets a `record` through unless a `record` expectation is next (so the
//! expectations need not mention it), but a `clone_span` / `drop_span` where an event is
//! expected fails the test, and used to abort the whole binary from the guard's `Drop`.
//! `outcome_is_one_record_on_its_own_span_before_the_err_event` pins the call itself.

use std::future::Future;
use std::num::TryFromIntError;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use observe::observe;
use tracing::Level;
use tracing::subscriber::with_default;
use tracing_mock::{expect, subscriber};

/// Pending once (waking itself), then ready: one suspension point, as tracing-test's
/// `PollN` gives the async tests there.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Polls `future` to completion on this thread (the mock subscriber is thread-local).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

fn too_big() -> TryFromIntError {
    u8::try_from(1234).unwrap_err()
}

#[observe(err)]
fn err() -> Result<u8, TryFromIntError> {
    u8::try_from(1234)
}

#[test]
fn err_sync() {
    let span = expect::span().named("err");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event().at_level(Level::ERROR).with_fields(
                expect::field("error")
                    .with_value(&tracing::field::display(too_big()))
                    .only(),
            ),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || err().ok());
    handle.assert_finished();
}

#[observe(err)]
fn err_early_return() -> Result<u8, TryFromIntError> {
    u8::try_from(1234)?;
    Ok(5)
}

#[test]
fn err_early_return_sync() {
    let span = expect::span().named("err_early_return");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(expect::event().at_level(Level::ERROR))
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || err_early_return().ok());
    handle.assert_finished();
}

#[observe(err)]
async fn err_async() -> Result<u8, TryFromIntError> {
    tracing::trace!(awaiting = true);
    YieldOnce(false).await;
    u8::try_from(1234)
}

#[test]
fn err_async_across_a_suspension() {
    let span = expect::span().named("err_async");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(expect::field("awaiting").with_value(&true))
                .at_level(Level::TRACE),
        )
        .exit(span.clone())
        .enter(span.clone())
        .event(expect::event().at_level(Level::ERROR))
        .exit(span.clone())
        .enter(span.clone())
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || block_on(err_async()).ok());
    handle.assert_finished();
}

#[observe(err(Debug, level = "info"))]
fn err_dbg_info() -> Result<u8, TryFromIntError> {
    u8::try_from(1234)
}

#[test]
fn err_debug_at_info() {
    let span = expect::span().named("err_dbg_info");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .at_level(Level::INFO)
                .with_fields(expect::field("error").with_value(&tracing::field::debug(too_big()))),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || err_dbg_info().ok());
    handle.assert_finished();
}

#[observe(err, ret)]
fn ret_and_err(n: u32) -> Result<u8, TryFromIntError> {
    u8::try_from(n)
}

#[test]
fn ret_and_err_on_err() {
    let span = expect::span().named("ret_and_err");
    let (subscriber, handle) = subscriber::mock()
        .new_span(
            span.clone()
                .with_fields(expect::field("n").with_value(&1234_u32)),
        )
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(
                    expect::field("error")
                        .with_value(&tracing::field::display(too_big()))
                        .only(),
                )
                .at_level(Level::ERROR),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || ret_and_err(1234).ok());
    handle.assert_finished();
}

#[test]
fn ret_and_err_on_ok() {
    let span = expect::span().named("ret_and_err");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(
                    expect::field("return")
                        .with_value(&tracing::field::debug(123_u8))
                        .only(),
                )
                .at_level(Level::INFO),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || ret_and_err(123).ok());
    handle.assert_finished();
}

/// `ret` without `err` on an `Err`: the outcome is still recorded (by id, unseen by these
/// expectations), then the whole `Result` is the `return` event.
#[observe(ret)]
fn ret_result() -> Result<u8, TryFromIntError> {
    u8::try_from(1234)
}

#[test]
fn ret_of_an_err_without_err() {
    let span = expect::span().named("ret_result");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(
                    expect::field("return").with_value(&tracing::field::debug(u8::try_from(1234))),
                )
                .at_level(Level::INFO),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || ret_result().ok());
    handle.assert_finished();
}

#[observe(ret)]
fn ret_mut(a: &mut i32) -> i32 {
    *a *= 2;
    tracing::info!(?a);
    *a
}

#[test]
fn ret_sync() {
    let span = expect::span().named("ret_mut");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(expect::field("a").with_value(&tracing::field::display(2)))
                .at_level(Level::INFO),
        )
        .event(
            expect::event()
                .with_fields(expect::field("return").with_value(&tracing::field::debug(2)))
                .at_level(Level::INFO),
        )
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || ret_mut(&mut 1));
    handle.assert_finished();
}

#[observe(ret(Display), level = "warn")]
async fn ret_async() -> i32 {
    YieldOnce(false).await;
    42
}

#[test]
fn ret_async_display() {
    let span = expect::span().named("ret_async").at_level(Level::WARN);
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .exit(span.clone())
        .enter(span.clone())
        .event(
            expect::event()
                .with_fields(expect::field("return").with_value(&tracing::field::display(42)))
                .at_level(Level::WARN),
        )
        .exit(span.clone())
        .enter(span.clone())
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || block_on(ret_async()));
    handle.assert_finished();
}

#[observe]
fn panics() -> u8 {
    panic!("boom")
}

/// A panic unwinds through the span with no span traffic of ours: `exit` is skipped by the
/// mock while panicking, the drop is the span's own, and the test binary does not abort.
#[test]
fn panic_unwinds_without_extra_span_traffic() {
    let span = expect::span().named("panics");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || {
        assert!(std::panic::catch_unwind(panics).is_err());
    });
    handle.assert_finished();
}

/// The recording itself, where tracing-mock can see it: one `record` on the function's
/// own span carrying both outcome fields, after the body and before the `err` event (so
/// that the event's error message is what an OpenTelemetry span status keeps).
#[test]
fn outcome_is_one_record_on_its_own_span_before_the_err_event() {
    let span = expect::span().named("err");
    let (subscriber, handle) = subscriber::mock()
        .new_span(span.clone())
        .enter(span.clone())
        .record(
            span.clone(),
            expect::field("observe.result")
                .with_value(&"error")
                .and(expect::field("otel.status_code").with_value(&"ERROR"))
                .only(),
        )
        .event(expect::event().at_level(Level::ERROR))
        .exit(span.clone())
        .drop_span(span)
        .only()
        .run_with_handle();
    with_default(subscriber, || err().ok());
    handle.assert_finished();
}
