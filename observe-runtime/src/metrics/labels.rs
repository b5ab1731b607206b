//! Reading a span record's metric labels in place: no copies on the per-call path.

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};

use crate::context::{SpanField, SpanRecord};
use crate::fields::METRIC_LABEL_PREFIX;
use crate::value::FieldValue;

/// The label the layer appends to every series; a `metric_label_result` field would clash.
pub(crate) use observe_fields::RESULT_LABEL;

/// The record's `metric_label_<k>` fields as `(k, value)`, in declaration order.
pub(crate) fn of(record: &SpanRecord) -> impl Iterator<Item = (&'static str, &FieldValue)> + Clone {
    record.fields().iter().filter_map(label)
}

fn label(field: &SpanField) -> Option<(&'static str, &FieldValue)> {
    let key = field.name.strip_prefix(METRIC_LABEL_PREFIX)?;
    (!key.is_empty() && key != RESULT_LABEL).then_some((key, &field.value))
}

/// Hashes a value by type and payload, the way [`typed_eq`] compares: cheap, for the cache
/// that sits in front of the text-keyed label sets.
pub(crate) fn hash_typed(value: &FieldValue, state: &mut impl Hasher) {
    match value {
        FieldValue::Bool(v) => (0u8, v).hash(state),
        FieldValue::I64(v) => (1u8, v).hash(state),
        FieldValue::U64(v) => (2u8, v).hash(state),
        FieldValue::I128(v) => (3u8, v).hash(state),
        FieldValue::U128(v) => (4u8, v).hash(state),
        FieldValue::F64(v) => (5u8, v.to_bits()).hash(state),
        FieldValue::Str(v) => (6u8, &**v).hash(state),
    }
}

/// Equality that, unlike `==` on `f64`, holds for a NaN and itself: a NaN label must hit
/// the cache like any other value or every call would take the slow path.
pub(crate) fn typed_eq(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::F64(a), FieldValue::F64(b)) => a.to_bits() == b.to_bits(),
        _ => a == b,
    }
}

/// Runs `f` on the value as a label reads it: text as is, numbers and booleans formatted.
/// Formats on the stack so that a label set looked up again allocates nothing.
pub(crate) fn with_text<R>(value: &FieldValue, f: impl FnOnce(&str) -> R) -> R {
    if let FieldValue::Str(text) = value {
        return f(text);
    }
    let mut buf = StackText::default();
    if write!(buf, "{value}").is_ok() {
        f(buf.as_str())
    } else {
        f(&value.to_string())
    }
}

/// A fixed buffer that fits any formatted integer and all but the longest `f64`s
/// (`Display` writes an `f64` without exponent, up to ~330 digits).
struct StackText {
    buf: [u8; 128],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            buf: [0; 128],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dest = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_values() {
        let text = |v: FieldValue| with_text(&v, str::to_owned);
        assert_eq!(text(FieldValue::from("a b")), "a b");
        assert_eq!(text(FieldValue::I64(-42)), "-42");
        assert_eq!(text(FieldValue::U128(u128::MAX)), u128::MAX.to_string());
        assert_eq!(text(FieldValue::Bool(true)), "true");
        assert_eq!(text(FieldValue::F64(0.25)), "0.25");
        // Longer than the stack buffer: falls back to the heap, same text.
        assert_eq!(text(FieldValue::F64(1e300)), 1e300.to_string());
    }

    #[test]
    fn nan_equals_itself_for_the_cache() {
        assert!(typed_eq(
            &FieldValue::F64(f64::NAN),
            &FieldValue::F64(f64::NAN)
        ));
        assert!(!typed_eq(&FieldValue::I64(3), &FieldValue::from("3")));
    }
}
