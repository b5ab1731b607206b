//! Field values as the layers keep them: numbers stay numbers, text is owned.

use std::fmt;

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
    Str(Box<str>),
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
            FieldValue::Str(s) => Some(s),
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
