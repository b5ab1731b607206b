//! What code that creates a span hands to the record being made, through the thread: a
//! caller's trace context to continue, and the spans the new one follows from.
//!
//! Both are known before the span exists (from request headers, from the spawning span),
//! and `tracing` carries nothing but field values into a new span; so the creator sets them
//! here for the duration of the creation, and the layer reads them while it makes the
//! record. Spans made without either pay one thread-local flag read.

use std::cell::{Cell, RefCell};

use tracing_core::span::Id;

use crate::propagation::TraceContext;

thread_local! {
    static REMOTE_PARENT: RefCell<Option<TraceContext>> = const { RefCell::new(None) };
    static HAS_LINKS: Cell<bool> = const { Cell::new(false) };
    static LINKS: RefCell<Vec<Id>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `parent` as the remote parent of the root spans it creates.
pub(crate) fn with_remote_parent<R>(parent: TraceContext, f: impl FnOnce() -> R) -> R {
    let previous = REMOTE_PARENT.with(|slot| slot.replace(Some(parent)));
    let _restore = Restore(Some(previous));
    f()
}

/// Puts the previous remote parent back, also when `f` unwinds.
struct Restore(Option<Option<TraceContext>>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            let _ = REMOTE_PARENT.try_with(|slot| *slot.borrow_mut() = previous);
        }
    }
}

/// The remote parent set by [`with_remote_parent`], if any.
pub(crate) fn remote_parent() -> Option<TraceContext> {
    REMOTE_PARENT
        .try_with(|slot| slot.try_borrow().ok().and_then(|p| p.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with `causes` as the spans that the spans it creates follow from.
///
/// This is what `observe_async!` and `#[observe(follows_from = ..)]` expand to around the
/// span's creation, so that its first log line already names its links.
///
/// ```
/// use observe_runtime::context::with_links;
///
/// let cause = tracing::info_span!("request");
/// let task = with_links(cause.id(), || tracing::info_span!(parent: None, "task"));
/// task.follows_from(&cause); // for other subscribers; observe keeps the link once
/// ```
pub fn with_links<R>(
    causes: impl IntoIterator<Item = impl Into<Option<Id>>>,
    f: impl FnOnce() -> R,
) -> R {
    let mut causes = causes.into_iter().filter_map(Into::into).peekable();
    if causes.peek().is_none() {
        return f();
    }
    let pushed = LINKS.with(|links| {
        let mut links = links.borrow_mut();
        let before = links.len();
        links.extend(causes);
        before
    });
    HAS_LINKS.with(|flag| flag.set(true));
    let _restore = RestoreLinks(pushed);
    f()
}

struct RestoreLinks(usize);

impl Drop for RestoreLinks {
    fn drop(&mut self) {
        let _ = LINKS.try_with(|links| {
            let mut links = links.borrow_mut();
            links.truncate(self.0);
            if links.is_empty() {
                HAS_LINKS.with(|flag| flag.set(false));
            }
        });
    }
}

/// Calls `f` with the pending causes, if there are any.
#[inline]
pub(crate) fn pending_links(f: impl FnOnce(&[Id])) {
    if !HAS_LINKS.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let _ = LINKS.try_with(|links| {
        if let Ok(links) = links.try_borrow() {
            f(&links);
        }
    });
}
