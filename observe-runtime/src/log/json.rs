//! [`JsonEncoder`]: one JSON object per line (`OBSERVE_LOG_FORMAT=json`).
//!
//! The same keys as logfmt, in the same order, sanitised the same way. Text values are JSON
//! strings escaped per RFC 8259: `"` `\` as `\"` `\\`; backspace, form feed, newline, CR and
//! tab as `\b` `\f` `\n` `\r` `\t`; the other C0 controls, DEL, the C1 controls and U+2028 /
//! U+2029 as `\u00XX` / `\u2028` (lowercase hex). DEL, C1 and the separators need no escape
//! in JSON; escaping them keeps lines readable and safe to embed in JavaScript. Everything
//! else, including all other non-ASCII text, is written as UTF-8. Integers and finite floats
//! are JSON numbers; `NaN`, `inf` and `-inf` are the strings `"NaN"`, `"inf"`, `"-inf"`.
//! Duplicate keys are written as given (the layer deduplicates).

use std::fmt;

use super::encode::escape::{Escapes, ascii_classes, escape_fmt_into, escape_into};
use super::encode::{Format, non_finite_str, write_finite_f64};

/// Encodes records as single-line JSON objects (see the [module docs](self)).
///
/// A type, not a value: the line builders are generic over its [`Format`] impl. Stateless.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct JsonEncoder;

impl Escapes for JsonEncoder {
    const ASCII: &'static [u8; 128] = &ascii_classes(b"");
    const QUOTE_WHITESPACE: bool = false;

    fn push_other_escape(out: &mut Vec<u8>, c: char) {
        match c {
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            _ => {
                // Only BMP characters get here (controls, U+2028, U+2029).
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let cp = c as u32;
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    HEX[(cp >> 12 & 0xf) as usize],
                    HEX[(cp >> 8 & 0xf) as usize],
                    HEX[(cp >> 4 & 0xf) as usize],
                    HEX[(cp & 0xf) as usize],
                ]);
            }
        }
    }
}

/// Formats `args` as a JSON string. A `fmt::Error` from the value's own impl keeps what it
/// wrote before failing; the string is closed either way.
#[inline]
fn write_fmt_value(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    out.push(b'"');
    escape_fmt_into::<JsonEncoder>(out, args);
    out.push(b'"');
}

impl Format for JsonEncoder {
    const JSON: bool = true;

    #[inline]
    fn str_value(out: &mut Vec<u8>, value: &str) {
        out.push(b'"');
        escape_into::<JsonEncoder>(out, value);
        out.push(b'"');
    }

    fn display_value(out: &mut Vec<u8>, value: &dyn fmt::Display) {
        write_fmt_value(out, format_args!("{value}"));
    }

    fn debug_value(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
        write_fmt_value(out, format_args!("{value:?}"));
    }

    fn f64_value(out: &mut Vec<u8>, value: f64) {
        if value.is_finite() {
            write_finite_f64(out, value);
        } else {
            out.push(b'"');
            out.extend_from_slice(non_finite_str(value).as_bytes());
            out.push(b'"');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::encode::{LineEncoder, is_json_number};

    const ENC: JsonEncoder = JsonEncoder;

    /// A JSON value of a flat log object.
    #[derive(Debug, PartialEq)]
    enum V {
        S(String),
        N(String),
        B(bool),
    }

    /// A strict parser for what the encoder writes: one flat object, then `\n`, nothing else.
    /// Strings follow RFC 8259 exactly (raw controls rejected, all escapes including
    /// surrogate pairs decoded).
    fn parse(line: &str) -> Result<Vec<(String, V)>, String> {
        let body = line.strip_suffix("\n").ok_or("no final newline")?;
        if body.contains('\n') {
            return Err("raw newline".into());
        }
        let mut p = P {
            s: body.as_bytes(),
            i: 0,
            text: body,
        };
        p.eat(b'{')?;
        let mut pairs = Vec::new();
        if p.peek() == Some(b'}') {
            p.i += 1;
        } else {
            loop {
                let k = p.string()?;
                p.eat(b':')?;
                let v = match p.peek() {
                    Some(b'"') => V::S(p.string()?),
                    Some(b't') => p.lit("true").map(|_| V::B(true))?,
                    Some(b'f') => p.lit("false").map(|_| V::B(false))?,
                    _ => V::N(p.number()?),
                };
                pairs.push((k, v));
                match p.peek() {
                    Some(b',') => p.i += 1,
                    Some(b'}') => {
                        p.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected , or }} at {}", p.i)),
                }
            }
        }
        if p.i != body.len() {
            return Err("trailing data".into());
        }
        Ok(pairs)
    }

    struct P<'a> {
        s: &'a [u8],
        i: usize,
        text: &'a str,
    }

    impl P<'_> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }
        fn eat(&mut self, b: u8) -> Result<(), String> {
            if self.peek() == Some(b) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", b as char, self.i))
            }
        }
        fn lit(&mut self, l: &str) -> Result<(), String> {
            if self.s[self.i..].starts_with(l.as_bytes()) {
                self.i += l.len();
                Ok(())
            } else {
                Err(format!("bad literal at {}", self.i))
            }
        }
        fn number(&mut self) -> Result<String, String> {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            {
                self.i += 1;
            }
            let n = &self.text[start..self.i];
            if is_json_number(n) {
                Ok(n.to_string())
            } else {
                Err(format!("bad number {n:?}"))
            }
        }
        fn hex4(&mut self) -> Result<u32, String> {
            let h = self.text.get(self.i..self.i + 4).ok_or("short \\u")?;
            self.i += 4;
            u32::from_str_radix(h, 16).map_err(|e| e.to_string())
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut out = String::new();
            loop {
                let c = self.text[self.i..].chars().next().ok_or("unterminated")?;
                self.i += c.len_utf8();
                match c {
                    '"' => return Ok(out),
                    '\\' => {
                        let e = self.peek().ok_or("bad escape")?;
                        self.i += 1;
                        out.push(match e {
                            b'"' => '"',
                            b'\\' => '\\',
                            b'/' => '/',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'n' => '\n',
                            b'r' => '\r',
                            b't' => '\t',
                            b'u' => {
                                let hi = self.hex4()?;
                                let cp = if (0xd800..0xdc00).contains(&hi) {
                                    self.lit("\\u")?;
                                    let lo = self.hex4()?;
                                    if !(0xdc00..0xe000).contains(&lo) {
                                        return Err("lone surrogate".into());
                                    }
                                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                                } else {
                                    hi
                                };
                                char::from_u32(cp).ok_or("lone surrogate")?
                            }
                            _ => return Err(format!("bad escape \\{}", e as char)),
                        });
                    }
                    c if (c as u32) < 0x20 => return Err(format!("raw control {c:?}")),
                    c => out.push(c),
                }
            }
        }
    }

    fn line(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        ENC.begin(&mut out);
        f(&mut out);
        ENC.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn round_trip(v: &str) {
        struct Chunked<'a>(&'a str);
        impl fmt::Display for Chunked<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for c in self.0.chars() {
                    fmt::Write::write_char(f, c)?;
                }
                Ok(())
            }
        }
        for l in [
            line(|o| ENC.str(o, "k", v)),
            line(|o| ENC.display(o, "k", &v)),
            line(|o| ENC.display(o, "k", &Chunked(v))),
        ] {
            let pairs = parse(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            assert_eq!(pairs, vec![("k".to_string(), V::S(v.to_string()))], "{l:?}");
        }
    }

    #[test]
    fn every_ascii_char() {
        for b in 0u8..=0x7f {
            let c = b as char;
            let want = match c {
                '"' => r#""\"""#.to_string(),
                '\\' => r#""\\""#.to_string(),
                '\n' => r#""\n""#.to_string(),
                '\r' => r#""\r""#.to_string(),
                '\t' => r#""\t""#.to_string(),
                '\u{8}' => r#""\b""#.to_string(),
                '\u{c}' => r#""\f""#.to_string(),
                c if c.is_control() => format!("\"\\u{b:04x}\""),
                c => format!("\"{c}\""),
            };
            let l = line(|o| ENC.str(o, "k", &c.to_string()));
            assert_eq!(l, format!("{{\"k\":{want}}}\n"), "byte {b:#04x}");
            round_trip(&c.to_string());
            round_trip(&format!("a{c}b{c}"));
        }
    }

    #[test]
    fn unicode_round_trips() {
        assert_eq!(
            line(|o| ENC.str(o, "k", "\u{85}\u{2028}\u{2029}é🦀")),
            "{\"k\":\"\\u0085\\u2028\\u2029é🦀\"}\n"
        );
        let mut text = String::new();
        for cp in (0..0x3100).chain((0x3100..0x11_0000).step_by(97)) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            text.push(c);
            if text.len() > 64 {
                round_trip(&text);
                text.clear();
            }
        }
        round_trip(&text);
        round_trip("");
    }

    #[test]
    fn numbers_bools_and_order() {
        let l = line(|o| {
            ENC.str(o, "level", "INFO");
            ENC.i64(o, "i", i64::MIN);
            ENC.u64(o, "u", u64::MAX);
            ENC.i128(o, "i128", i128::MIN);
            ENC.u128(o, "u128", u128::MAX);
            ENC.f64(o, "f", -0.5);
            ENC.f64(o, "tiny", 1e-300);
            ENC.f64(o, "nan", f64::NAN);
            ENC.f64(o, "inf", f64::INFINITY);
            ENC.f64(o, "ninf", f64::NEG_INFINITY);
            ENC.bool(o, "t", true);
            ENC.bool(o, "f2", false);
            ENC.raw_number(o, "latency_ms", "12.000");
            ENC.debug(o, "dbg", &Some("x\ny"));
            ENC.display(o, "a b", &42);
            ENC.str(o, "", "");
        });
        let pairs = parse(&l).unwrap_or_else(|e| panic!("{l}: {e}"));
        let want = vec![
            ("level", V::S("INFO".into())),
            ("i", V::N(i64::MIN.to_string())),
            ("u", V::N(u64::MAX.to_string())),
            ("i128", V::N(i128::MIN.to_string())),
            ("u128", V::N(u128::MAX.to_string())),
            ("f", V::N("-0.5".into())),
            ("tiny", V::N("1e-300".into())),
            ("nan", V::S("NaN".into())),
            ("inf", V::S("inf".into())),
            ("ninf", V::S("-inf".into())),
            ("t", V::B(true)),
            ("f2", V::B(false)),
            ("latency_ms", V::N("12.000".into())),
            ("dbg", V::S("Some(\"x\\ny\")".into())),
            ("a_b", V::S("42".into())),
            ("_", V::S("".into())),
        ];
        let want: Vec<(String, V)> = want.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(pairs, want);
    }

    #[test]
    fn escapes_and_non_finite_floats() {
        let l = line(|o| {
            ENC.str(o, "level", "INFO");
            ENC.str(o, "msg", "line 1\nline \"2\"");
            ENC.i64(o, "n", -3);
            ENC.f64(o, "x", f64::NAN);
        });
        assert_eq!(
            l,
            "{\"level\":\"INFO\",\"msg\":\"line 1\\nline \\\"2\\\"\",\"n\":-3,\"x\":\"NaN\"}\n"
        );
    }

    #[test]
    fn empty_object_and_several_records() {
        assert_eq!(line(|_| {}), "{}\n");
        assert_eq!(parse("{}\n").unwrap(), vec![]);
        let mut out = Vec::new();
        for i in 0..2 {
            ENC.begin(&mut out);
            ENC.u64(&mut out, "n", i);
            ENC.u64(&mut out, "m", i);
            ENC.finish(&mut out);
        }
        assert_eq!(out, b"{\"n\":0,\"m\":0}\n{\"n\":1,\"m\":1}\n");
    }

    #[test]
    fn the_test_parser_is_strict() {
        for bad in [
            "{\"k\":\"a\nb\"}\n",
            "{\"k\":\"a\u{1}\"}\n",
            "{\"k\":01}\n",
            "{\"k\":\"\\ud800\"}\n",
            "{\"k\":\"x\"}",
            "{\"k\":\"x\",}\n",
            "{\"k\":\"\\x\"}\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse("{\"k\":\"\\ud83e\\udd80\"}\n").unwrap(),
            vec![("k".to_string(), V::S("🦀".into()))]
        );
    }
}
