//! Typed OTLP values: [`Value`] keeps an attribute's type (an int stays an int), and
//! [`any_value_to_string`] renders one as text for the string-only views.

use std::collections::BTreeMap;
use std::fmt;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// An OTLP `AnyValue` with its type kept, for asserting that an attribute crossed the wire
/// as the type it was recorded with.
///
/// ```
/// use observe_testkit::otlp::Value;
/// use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
///
/// let wire = AnyValue { value: Some(any_value::Value::IntValue(7)) };
/// let value = Value::from(&wire);
/// assert_eq!(value, Value::Int(7));
/// assert_ne!(value, Value::String("7".into()), "an int is not its text");
/// assert_eq!(value.to_string(), "7");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value set (an empty `AnyValue`).
    Empty,
    /// `string_value`.
    String(String),
    /// `bool_value`.
    Bool(bool),
    /// `int_value`.
    Int(i64),
    /// `double_value`.
    Double(f64),
    /// `bytes_value`.
    Bytes(Vec<u8>),
    /// `array_value`, in order.
    Array(Vec<Value>),
    /// `kvlist_value`, in order (OTLP allows repeated keys here, so this is not a map).
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The string, when this is a [`Value::String`].
    ///
    /// ```
    /// use observe_testkit::otlp::Value;
    /// assert_eq!(Value::String("a".into()).as_str(), Some("a"));
    /// assert_eq!(Value::Int(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is a [`Value::Int`].
    ///
    /// ```
    /// use observe_testkit::otlp::Value;
    /// assert_eq!(Value::Int(3).as_i64(), Some(3));
    /// assert_eq!(Value::Double(3.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, when this is a [`Value::Double`].
    ///
    /// ```
    /// use observe_testkit::otlp::Value;
    /// assert_eq!(Value::Double(0.5).as_f64(), Some(0.5));
    /// assert_eq!(Value::Int(1).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The boolean, when this is a [`Value::Bool`].
    ///
    /// ```
    /// use observe_testkit::otlp::Value;
    /// assert_eq!(Value::Bool(true).as_bool(), Some(true));
    /// assert_eq!(Value::String("true".into()).as_bool(), None);
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl From<&AnyValue> for Value {
    fn from(value: &AnyValue) -> Value {
        match &value.value {
            // A string-table index belongs to the profiling signal; OTLP tells receivers of
            // other signals to read it as absent.
            None | Some(any_value::Value::StringValueStrindex(_)) => Value::Empty,
            Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
            Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
            Some(any_value::Value::IntValue(i)) => Value::Int(*i),
            Some(any_value::Value::DoubleValue(d)) => Value::Double(*d),
            Some(any_value::Value::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(any_value::Value::ArrayValue(a)) => {
                Value::Array(a.values.iter().map(Value::from).collect())
            }
            Some(any_value::Value::KvlistValue(kv)) => Value::Map(
                kv.values
                    .iter()
                    .map(|kv| (kv.key.clone(), key_value(kv)))
                    .collect(),
            ),
        }
    }
}

impl From<Option<&AnyValue>> for Value {
    fn from(value: Option<&AnyValue>) -> Value {
        value.map(Value::from).unwrap_or(Value::Empty)
    }
}

/// Strings as is, scalars in their display form, bytes as lowercase hex, arrays as
/// `[a,b]` and maps as `{k=v,…}`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Empty => Ok(()),
            Value::String(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Bytes(b) => f.write_str(&hex(b)),
            Value::Array(values) => {
                f.write_str("[")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{key}={value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Renders an OTLP value as a string: strings as is, scalars in display form, arrays and
/// maps in a bracketed form (see [`Value`]'s `Display`).
///
/// ```
/// use observe_testkit::otlp::any_value_to_string;
/// use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
///
/// let flag = AnyValue { value: Some(any_value::Value::BoolValue(true)) };
/// assert_eq!(any_value_to_string(&flag), "true");
/// ```
pub fn any_value_to_string(value: &AnyValue) -> String {
    Value::from(value).to_string()
}

fn key_value(kv: &KeyValue) -> Value {
    Value::from(kv.value.as_ref())
}

/// Attributes with their types; a repeated key keeps its last value.
pub(crate) fn typed_attributes(kvs: &[KeyValue]) -> BTreeMap<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), key_value(kv)))
        .collect()
}

/// Attributes rendered as strings, for the string-only span view.
pub(crate) fn string_attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), key_value(kv).to_string()))
        .collect()
}

/// Lowercase hex, as W3C trace context and OpenMetrics exemplars write ids.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn any(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
            ..KeyValue::default()
        }
    }

    #[test]
    fn nested_values_render_like_the_old_string_view() {
        let array = any(any_value::Value::ArrayValue(ArrayValue {
            values: vec![
                any(any_value::Value::IntValue(1)),
                any(any_value::Value::DoubleValue(2.5)),
            ],
        }));
        let value = any(any_value::Value::KvlistValue(KeyValueList {
            values: vec![
                kv("a", Some(array)),
                kv(
                    "b",
                    Some(any(any_value::Value::BytesValue(vec![0x0a, 0xff]))),
                ),
                kv("c", None),
            ],
        }));
        assert_eq!(any_value_to_string(&value), "{a=[1,2.5],b=0aff,c=}");
        assert_eq!(
            Value::from(&value),
            Value::Map(vec![
                (
                    "a".into(),
                    Value::Array(vec![Value::Int(1), Value::Double(2.5)])
                ),
                ("b".into(), Value::Bytes(vec![0x0a, 0xff])),
                ("c".into(), Value::Empty),
            ])
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let kvs = [
            kv("k", Some(any(any_value::Value::IntValue(1)))),
            kv("k", Some(any(any_value::Value::BoolValue(false)))),
        ];
        assert_eq!(typed_attributes(&kvs)["k"], Value::Bool(false));
        assert_eq!(string_attributes(&kvs)["k"], "false");
    }

    #[test]
    fn a_profiling_string_index_reads_as_absent() {
        let value = any(any_value::Value::StringValueStrindex(4));
        assert_eq!(Value::from(&value), Value::Empty);
    }

    #[test]
    fn hex_is_lowercase_and_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }
}
