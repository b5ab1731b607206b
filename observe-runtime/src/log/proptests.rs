//! The encoders under property tests: any key and any value, through every field method of
//! both formats, make one line that an independent parser reads back to the same pairs
//! (logfmt: `observe_testkit::logfmt`, strict; JSON: `serde_json`).

use std::fmt;

use proptest::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::encode::LineEncoder;
use super::json::JsonEncoder;
use super::logfmt::LogfmtEncoder;
use observe_testkit::logfmt::parse_line;

#[derive(Clone, Debug)]
enum Value {
    Str(String),
    /// Through `Display`, written one `char` per `write_str` call.
    Display(String),
    /// Through `Debug` of the string (so quoted and escaped by Rust first).
    Debug(String),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

/// Displays a string one `char` per `write_str`, the hardest case for an escaping writer.
struct Chunked<'a>(&'a str);

impl fmt::Display for Chunked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 4];
        for c in self.0.chars() {
            f.write_str(c.encode_utf8(&mut buf))?;
        }
        Ok(())
    }
}

/// Strings rich in what encoders get wrong: quotes, backslashes, `=`, spaces, every control
/// character, U+2028/2029, non-ASCII, and arbitrary Unicode.
fn nasty_string() -> impl Strategy<Value = String> {
    let nasty_char = prop_oneof![
        4 => any::<char>(),
        2 => proptest::sample::select(vec![
            '"', '\\', '=', ' ', '\n', '\r', '\t', '\0', '\u{1b}', '\u{7f}', '\u{85}',
            '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', 'é', '日', '🦀', '{', '}', ':', ',',
        ]),
        3 => proptest::char::range('\u{0}', '\u{7f}'),
    ];
    proptest::collection::vec(nasty_char, 0..24).prop_map(|cs| cs.into_iter().collect())
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => nasty_string().prop_map(Value::Str),
        2 => nasty_string().prop_map(Value::Display),
        2 => nasty_string().prop_map(Value::Debug),
        1 => any::<i64>().prop_map(Value::I64),
        1 => any::<u64>().prop_map(Value::U64),
        1 => any::<i128>().prop_map(Value::I128),
        1 => any::<u128>().prop_map(Value::U128),
        1 => any::<u64>().prop_map(|bits| Value::F64(f64::from_bits(bits))),
        1 => proptest::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e300, 5e-324, f64::MAX,
        ])
        .prop_map(Value::F64),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
}

fn encode(encoder: &dyn LineEncoder, out: &mut Vec<u8>, fields: &[(String, Value)]) {
    encoder.begin(out);
    for (key, value) in fields {
        match value {
            Value::Str(s) => encoder.str(out, key, s),
            Value::Display(s) => encoder.display(out, key, &Chunked(s)),
            Value::Debug(s) => encoder.debug(out, key, s),
            Value::I64(v) => encoder.i64(out, key, *v),
            Value::U64(v) => encoder.u64(out, key, *v),
            Value::I128(v) => encoder.i128(out, key, *v),
            Value::U128(v) => encoder.u128(out, key, *v),
            Value::F64(v) => encoder.f64(out, key, *v),
            Value::Bool(v) => encoder.bool(out, key, *v),
        }
    }
    encoder.finish(out);
}

/// docs/reference.md: keys are sanitised to `[A-Za-z0-9_.:-]`, one `_` per other character;
/// an empty key becomes `_`.
fn sanitised(key: &str) -> String {
    if key.is_empty() {
        return "_".into();
    }
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn non_finite(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// The text logfmt must read back for a value.
fn logfmt_text(value: &Value) -> String {
    match value {
        Value::Str(s) | Value::Display(s) => s.clone(),
        Value::Debug(s) => format!("{s:?}"),
        Value::I64(v) => v.to_string(),
        Value::U64(v) => v.to_string(),
        Value::I128(v) => v.to_string(),
        Value::U128(v) => v.to_string(),
        Value::F64(v) if v.is_finite() => format!("{v:?}"),
        Value::F64(v) => non_finite(*v).into(),
        Value::Bool(v) => v.to_string(),
    }
}

/// A JSON object read back as its pairs, in order, duplicates kept.
struct Pairs(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn check_json_value(raw: &str, key: &str, value: &Value, got: &serde_json::Value) {
    use serde_json::Value as J;
    match (value, got) {
        (Value::Str(s) | Value::Display(s), J::String(g)) => assert_eq!(g, s),
        (Value::Debug(s), J::String(g)) => assert_eq!(g, &format!("{s:?}")),
        (Value::I64(v), J::Number(n)) => assert_eq!(n.as_i64(), Some(*v)),
        (Value::U64(v), J::Number(n)) => assert_eq!(n.as_u64(), Some(*v)),
        // serde_json reads integers past 64 bits as floats: check the text itself.
        (Value::I128(v), J::Number(_)) => assert!(raw.contains(&format!("\"{key}\":{v}"))),
        (Value::U128(v), J::Number(_)) => assert!(raw.contains(&format!("\"{key}\":{v}"))),
        // serde_json's own float parsing can be a few ULPs off (without its
        // `float_roundtrip` feature): check the text, the shortest form that reads back.
        (Value::F64(v), J::Number(_)) if v.is_finite() => {
            assert!(raw.contains(&format!("\"{key}\":{v:?}")));
        }
        (Value::F64(v), J::String(g)) if !v.is_finite() => assert_eq!(g, non_finite(*v)),
        (Value::Bool(v), J::Bool(g)) => assert_eq!(g, v),
        (value, got) => panic!("{value:?} came back as {got:?}"),
    }
}

fn fields_strategy() -> impl Strategy<Value = Vec<(String, Value)>> {
    proptest::collection::vec((nasty_string(), value_strategy()), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn logfmt_any_keys_and_values_make_one_line_that_reads_back(fields in fields_strategy()) {
        let encoder = LogfmtEncoder;
        let mut out = Vec::new();
        // Two records in one buffer: each finds its own start.
        encode(&encoder, &mut out, &fields);
        encode(&encoder, &mut out, &fields);
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        prop_assert_eq!(lines.len(), 2, "one line per record: {:?}", text);
        prop_assert_eq!(lines[0], lines[1]);
        let line = lines[0];
        prop_assert!(line.ends_with('\n'));
        prop_assert!(
            !line[..line.len() - 1].chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
            "raw control character in {:?}", line
        );
        let pairs = parse_line(line).map_err(|e| TestCaseError::fail(format!("{e}: {line:?}")))?;
        let expected: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (sanitised(k), logfmt_text(v)))
            .collect();
        prop_assert_eq!(pairs, expected);
    }

    #[test]
    fn json_any_keys_and_values_make_one_valid_object(fields in fields_strategy()) {
        let encoder = JsonEncoder;
        let mut out = Vec::new();
        encode(&encoder, &mut out, &fields);
        encode(&encoder, &mut out, &fields);
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        prop_assert_eq!(lines.len(), 2, "one line per record: {:?}", text);
        let line = lines[0];
        // Valid JSON, as a value and as the ordered pairs.
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| TestCaseError::fail(format!("{e}: {line:?}")))?;
        prop_assert!(value.is_object());
        let pairs: Pairs = serde_json::from_str(line).unwrap();
        prop_assert_eq!(pairs.0.len(), fields.len());
        for ((key, value), (got_key, got)) in fields.iter().zip(&pairs.0) {
            prop_assert_eq!(got_key, &sanitised(key));
            check_json_value(line, got_key, value, got);
        }
    }
}
