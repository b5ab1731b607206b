//! Field values as the layers keep them: numbers stay numbers, text is owned.

use std::fmt;
use std::ops::Deref;

use tracing_core::field::{Field, Visit};

/// A span field value kept by the context store.
///
/// Integers, floats and booleans keep their type so that encoders can write them as
/// numbers; everything else (strings, `Display` and `Debug` values) is kept as text.
///
/// ```
/// use observe_runtime::value::FieldValue;
///
/// assert_eq!(FieldValue::from(42_i64).to_string(), "42");
/// assert_eq!(FieldValue::from("songs").to_string(), "songs");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A signed 128-bit integer.
    I128(i128),
    /// An unsigned 128-bit integer.
    U128(u128),
    /// A float.
    F64(f64),
    /// Text: a string, or a `Display`/`Debug` value formatted when recorded.
    Str(Text),
}

impl FieldValue {
    /// The value as text when it is text, `None` for numbers and booleans.
    ///
    /// ```
    /// use observe_runtime::value::FieldValue;
    ///
    /// assert_eq!(FieldValue::from("x").as_str(), Some("x"));
    /// assert_eq!(FieldValue::from(true).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(v) => v.fmt(f),
            FieldValue::I64(v) => v.fmt(f),
            FieldValue::U64(v) => v.fmt(f),
            FieldValue::I128(v) => v.fmt(f),
            FieldValue::U128(v) => v.fmt(f),
            FieldValue::F64(v) => v.fmt(f),
            FieldValue::Str(v) => v.fmt(f),
        }
    }
}

macro_rules! from_scalar {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                FieldValue::$variant(v)
            }
        })*
    };
}
from_scalar!(bool => Bool, i64 => I64, u64 => U64, i128 => I128, u128 => U128, f64 => F64);

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(v.into())
    }
}

/// Bytes of text kept inline, without an allocation (span fields are mostly short:
/// names, ids, label values).
const INLINE: usize = 22;

/// A `tracing` visitor that hands each visited field to `put` as a [`FieldValue`]: the
/// one conversion of `tracing`'s values that span records, span events and log records
/// share. Errors and `Debug` values become their text.
pub(crate) struct FieldValues<F>(pub(crate) F);

impl<F: FnMut(&Field, FieldValue)> Visit for FieldValues<F> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        (self.0)(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        (self.0)(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        (self.0)(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        (self.0)(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        (self.0)(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        (self.0)(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        (self.0)(field, FieldValue::Str(value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        (self.0)(
            field,
            FieldValue::Str(Text::format(format_args!("{value}"))),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        (self.0)(
            field,
            FieldValue::Str(Text::format(format_args!("{value:?}"))),
        );
    }
}

// Only the OTLP exports (span events, log records) take values as text.
#[cfg(feature = "otlp")]
impl FieldValue {
    /// The value as text: a string as it is (moved, not copied), anything else formatted.
    pub(crate) fn into_text(self) -> Text {
        match self {
            FieldValue::Str(text) => text,
            other => Text::format(format_args!("{other}")),
        }
    }
}

/// Owned text of a [`FieldValue`]: up to 22 bytes inline, longer text on the heap.
///
/// Derefs to `str`; compares, hashes and prints as its text.
///
/// ```
/// use observe_runtime::value::Text;
///
/// let short = Text::from("events");
/// let long = Text::from("a value longer than twenty-two bytes");
/// assert_eq!(&*short, "events");
/// assert_eq!(long.as_str(), "a value longer than twenty-two bytes");
/// assert_eq!(short, Text::from(String::from("events")));
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the text, copied from a `&str`.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl Text {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => inline_str(bytes, *len),
            Repr::Heap(text) => text,
        }
    }

    /// Formats `value`'s `Debug` (or any `fmt::Arguments`) into a `Text`, without an
    /// allocation when the result is short.
    pub(crate) fn format(args: fmt::Arguments<'_>) -> Text {
        if let Some(s) = args.as_str() {
            return Text::from(s);
        }
        let mut writer = TextWriter {
            len: 0,
            bytes: [0; INLINE],
            spilled: None,
        };
        // Writing into memory fails only if the value's own impl does; keep what it wrote.
        let _ = fmt::write(&mut writer, args);
        match writer.spilled {
            Some(text) => Text(Repr::Heap(text.into_boxed_str())),
            None => Text(Repr::Inline {
                len: writer.len,
                bytes: writer.bytes,
            }),
        }
    }
}

/// Builds a [`Text`] from whole `&str` pieces: inline while they fit, then a `String`.
struct TextWriter {
    len: u8,
    bytes: [u8; INLINE],
    spilled: Option<String>,
}

impl fmt::Write for TextWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(text) = &mut self.spilled {
            text.push_str(s);
            return Ok(());
        }
        let at = usize::from(self.len);
        match self.bytes.get_mut(at..at + s.len()) {
            Some(dest) => {
                dest.copy_from_slice(s.as_bytes());
                self.len += s.len() as u8;
            }
            None => {
                let mut text = String::with_capacity((at + s.len()).max(64));
                text.push_str(self.as_inline());
                text.push_str(s);
                self.spilled = Some(text);
            }
        }
        Ok(())
    }
}

impl TextWriter {
    fn as_inline(&self) -> &str {
        inline_str(&self.bytes, self.len)
    }
}

/// The text of inline bytes: `bytes[..len]`, which the caller filled with whole `&str`s.
///
/// Unchecked, because `Text::as_str` runs for every label of every observation and the
/// check would be a loop over the bytes each time; the one place that fills these buffers
/// (`From<&str>` and `TextWriter::write_str`, which copy whole `&str`s) is what keeps it
/// right.
#[allow(unsafe_code)]
#[inline]
fn inline_str(bytes: &[u8; INLINE], len: u8) -> &str {
    let bytes = &bytes[..usize::from(len)];
    // SAFETY: inline buffers are only ever filled by copying all the bytes of a `&str`
    // (`From<&str>`) or whole `&str`s one after another (`TextWriter::write_str`), and
    // `len` counts exactly the bytes copied, so `bytes[..len]` is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

impl Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    #[inline]
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Text {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Text(Repr::Heap(s.into()))
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        if s.len() <= INLINE {
            Text::from(s.as_str())
        } else {
            Text(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Text {
        if s.len() <= INLINE {
            Text::from(&*s)
        } else {
            Text(Repr::Heap(s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_text_read_back() {
        for s in [
            "",
            "a",
            "events",
            "exactly twenty-two b..",
            "twenty-three bytes long",
            "日本語のテキストは長い",
        ] {
            assert_eq!(Text::from(s).as_str(), s);
            assert_eq!(Text::from(s.to_string()).as_str(), s);
            assert_eq!(Text::from(Box::<str>::from(s)).as_str(), s);
            assert_eq!(Text::format(format_args!("{s}")).as_str(), s);
        }
        assert_eq!(std::mem::size_of::<Text>(), 24);
        assert!(std::mem::size_of::<FieldValue>() <= 32);
    }

    #[test]
    fn formatting_spills_to_the_heap_past_the_inline_bytes() {
        let v = vec!["ab"; 10];
        let text = Text::format(format_args!("{v:?}"));
        assert_eq!(text.as_str(), format!("{v:?}"));
        let short = Text::format(format_args!("{:?}", Some(3)));
        assert_eq!(short.as_str(), "Some(3)");
        let pieces = Text::format(format_args!("{}-{}-{}", "0123456789", "0123456789", "é"));
        assert_eq!(pieces.as_str(), "0123456789-0123456789-é");
    }
}
