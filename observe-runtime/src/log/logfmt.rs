//! [`LogfmtEncoder`]: the default log line format.
//!
//! `key=value` pairs separated by one space. The rules, which `observe_testkit::logfmt`
//! checks strictly:
//!
//! - Keys are sanitised to `[A-Za-z0-9_.:-]` ([`write_key`]).
//! - Numbers and booleans are bare; non-finite floats are `NaN`, `inf`, `-inf`.
//! - A text value is quoted when it is empty or holds a space, `=`, `"`, `\`, a control
//!   character (C0, DEL or C1, i.e. [`char::is_control`]) or any Unicode whitespace
//!   ([`char::is_whitespace`]: U+0085, U+00A0, U+2028, U+3000 …), so that splitting a line on
//!   whitespace never cuts a value.
//! - Inside quotes `"` `\` newline CR and tab are written `\"` `\\` `\n` `\r` `\t`; the other
//!   control characters and the Unicode line and paragraph separators U+2028 and U+2029 are
//!   written `\u{XX}` in lowercase hex with at least two digits (`\u{00}`, `\u{1b}`, `\u{7f}`,
//!   `\u{85}`, `\u{2028}`). Other whitespace (U+00A0 …) stays as is inside the quotes.
//!   So no line ever holds a raw newline, CR or other line break.
//!
//! `Display` and `Debug` values are formatted once, straight into the line buffer, escaping
//! on the way; if the text turns out to need quotes, the opening quote is inserted in front of
//! it afterwards (a move of that value's bytes, no second formatting, no allocation).

use std::fmt;

use super::encode::escape::{
    Escapes, QUOTE, SAFE, ascii_classes, escape_fmt_into, escape_into, non_ascii_needs_escape,
};
use super::encode::{Format, non_finite_str, write_finite_f64};

/// Encodes records as logfmt lines (see the [module docs](self) for the exact rules).
///
/// A type, not a value: the line builders are generic over its [`Format`] impl. Stateless.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogfmtEncoder;

impl Escapes for LogfmtEncoder {
    const ASCII: &'static [u8; 128] = &ascii_classes(b" =");
    const QUOTE_WHITESPACE: bool = true;

    fn push_other_escape(out: &mut Vec<u8>, c: char) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let cp = c as u32;
        out.extend_from_slice(b"\\u{");
        // At least two digits; U+2028/U+2029 take four.
        let digits = if cp > 0xff { 4 } else { 2 };
        for i in (0..digits).rev() {
            out.push(HEX[((cp >> (i * 4)) & 0xf) as usize]);
        }
        out.push(b'}');
    }
}

/// Classifies `s` without writing: `(needs quotes, needs escapes)`.
#[inline]
fn classify(s: &str) -> (bool, bool) {
    let mut quote = s.is_empty();
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b < 0x80 {
            match LogfmtEncoder::ASCII[b as usize] {
                SAFE => {}
                QUOTE => quote = true,
                _ => return (true, true),
            }
        } else if b & 0xc0 != 0x80 {
            // A leading byte: look at the char it starts.
            let c = s[i..].chars().next().unwrap_or_default();
            if non_ascii_needs_escape(c) {
                return (true, true);
            }
            quote |= c.is_whitespace();
        }
    }
    (quote, false)
}

/// Appends `s` as a logfmt value, quoted and escaped as needed.
#[inline]
fn write_str_value(out: &mut Vec<u8>, s: &str) {
    match classify(s) {
        (false, _) => out.extend_from_slice(s.as_bytes()),
        (true, false) => {
            out.reserve(s.len() + 2);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        (true, true) => {
            out.push(b'"');
            escape_into::<LogfmtEncoder>(out, s);
            out.push(b'"');
        }
    }
}

/// Formats `args` into `out` as a logfmt value. A `fmt::Error` from the value's own impl
/// keeps what it wrote before failing (still escaped and quoted correctly).
#[inline]
fn write_fmt_value(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    let start = out.len();
    let quote = escape_fmt_into::<LogfmtEncoder>(out, args);
    if quote || out.len() == start {
        out.insert(start, b'"');
        out.push(b'"');
    }
}

impl Format for LogfmtEncoder {
    const JSON: bool = false;

    #[inline]
    fn str_value(out: &mut Vec<u8>, value: &str) {
        write_str_value(out, value);
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
            out.extend_from_slice(non_finite_str(value).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::encode::LineEncoder;
    use observe_testkit::logfmt::parse_line;

    const ENC: LogfmtEncoder = LogfmtEncoder;

    fn line(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        ENC.begin(&mut out);
        f(&mut out);
        ENC.finish(&mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches('\n').count(), 1, "one newline, at the end: {s:?}");
        assert!(s.ends_with('\n'));
        assert!(!s.contains('\r'));
        s
    }

    fn one_str(v: &str) -> String {
        let l = line(|o| ENC.str(o, "k", v));
        l.strip_prefix("k=")
            .unwrap()
            .strip_suffix('\n')
            .unwrap()
            .to_string()
    }

    fn one_display(v: &dyn fmt::Display) -> String {
        let l = line(|o| ENC.display(o, "k", v));
        l.strip_prefix("k=")
            .unwrap()
            .strip_suffix('\n')
            .unwrap()
            .to_string()
    }

    fn round_trip(v: &str) {
        for l in [
            line(|o| ENC.str(o, "k", v)),
            line(|o| ENC.display(o, "k", &v)),
            line(|o| ENC.display(o, "k", &Chunked(v))),
            line(|o| ENC.debug(o, "k", &DebugAsIs(v))),
        ] {
            let pairs = parse_line(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            assert_eq!(pairs, vec![("k".to_string(), v.to_string())], "{l:?}");
        }
    }

    /// Writes its text one char per `write_str` call, as some `Display` impls do.
    struct Chunked<'a>(&'a str);
    impl fmt::Display for Chunked<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for c in self.0.chars() {
                fmt::Write::write_char(f, c)?;
            }
            Ok(())
        }
    }

    struct DebugAsIs<'a>(&'a str);
    impl fmt::Debug for DebugAsIs<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    #[test]
    fn every_ascii_char_alone_and_embedded() {
        for b in 0u8..=0x7f {
            let c = b as char;
            let want = match c {
                '"' => r#""\"""#.to_string(),
                '\\' => r#""\\""#.to_string(),
                '\n' => r#""\n""#.to_string(),
                '\r' => r#""\r""#.to_string(),
                '\t' => r#""\t""#.to_string(),
                c if c.is_control() => format!("\"\\u{{{b:02x}}}\""),
                ' ' | '=' => format!("\"{c}\""),
                c => c.to_string(),
            };
            assert_eq!(one_str(&c.to_string()), want, "byte {b:#04x}");
            assert_eq!(one_display(&c), want, "byte {b:#04x}");
            round_trip(&c.to_string());
            round_trip(&format!("a{c}b"));
            round_trip(&format!("{c}{c} x{c}"));
        }
    }

    #[test]
    fn documented_examples() {
        assert_eq!(one_str(""), r#""""#);
        assert_eq!(one_display(&""), r#""""#);
        assert_eq!(one_str("plain"), "plain");
        assert_eq!(one_str("a b"), r#""a b""#);
        assert_eq!(one_str("k=v"), r#""k=v""#);
        assert_eq!(one_str(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(one_str(r"C:\dir"), r#""C:\\dir""#);
        assert_eq!(one_str("l1\nl2\r\n\tx"), r#""l1\nl2\r\n\tx""#);
        assert_eq!(one_str("\x1b[31m"), r#""\u{1b}[31m""#);
        assert_eq!(one_str("\0"), r#""\u{00}""#);
        assert_eq!(one_str("\x7f"), r#""\u{7f}""#);
        assert_eq!(one_str("日本語"), "日本語");
        assert_eq!(one_str("emoji🦀"), "emoji🦀");
        let l = line(|o| {
            ENC.str(o, "level", "WARN");
            ENC.str(o, "msg", "bad \"input\"\nline 2");
            ENC.str(o, "empty", "");
            ENC.f64(o, "ratio", f64::INFINITY);
        });
        assert_eq!(
            l,
            "level=WARN msg=\"bad \\\"input\\\"\\nline 2\" empty=\"\" ratio=inf\n"
        );
    }

    #[test]
    fn unicode_whitespace_and_separators() {
        // C1 controls and line/paragraph separators: escaped.
        assert_eq!(one_str("a\u{85}b"), r#""a\u{85}b""#);
        assert_eq!(one_str("\u{80}\u{9f}"), r#""\u{80}\u{9f}""#);
        assert_eq!(one_str("a\u{2028}b\u{2029}"), r#""a\u{2028}b\u{2029}""#);
        // Other whitespace: quoted, kept.
        assert_eq!(one_str("a\u{a0}b"), "\"a\u{a0}b\"");
        assert_eq!(one_str("\u{3000}"), "\"\u{3000}\"");
        assert_eq!(one_display(&"x\u{2009}y"), "\"x\u{2009}y\"");
        for c in [
            '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}',
            '\u{202f}', '\u{205f}', '\u{3000}', '\u{80}', '\u{9f}', '\u{feff}', '\u{200b}',
        ] {
            round_trip(&c.to_string());
            round_trip(&format!("é{c}日"));
        }
    }

    #[test]
    fn every_char_in_the_first_planes_round_trips() {
        // Every scalar value below U+3100 plus a sample above: str, Display (one and many
        // chunks) and Debug paths all agree with the strict parser.
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
    }

    #[test]
    fn random_strings_round_trip() {
        let pool: Vec<char> = "ab =\"\\\n\r\t\0\x1b\x7f é\u{85}\u{a0}\u{2028}日🦀{}u"
            .chars()
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (next() % 12) as usize;
            let s: String = (0..len)
                .map(|_| pool[(next() % pool.len() as u64) as usize])
                .collect();
            round_trip(&s);
        }
    }

    #[test]
    fn many_fields_in_order_with_numbers() {
        let l = line(|o| {
            ENC.str(o, "level", "INFO");
            ENC.str(o, "msg", "hello world");
            ENC.i64(o, "i", -42);
            ENC.u64(o, "u", 42);
            ENC.i128(o, "i128", -(1 << 100));
            ENC.u128(o, "u128", u128::MAX);
            ENC.f64(o, "f", 2.5);
            ENC.f64(o, "nan", f64::NAN);
            ENC.f64(o, "ninf", f64::NEG_INFINITY);
            ENC.bool(o, "b", false);
            ENC.raw_number(o, "latency_ms", "0.412");
            ENC.debug(o, "dbg", &vec!["a b"]);
            ENC.display(o, "bad key!", &7);
            ENC.str(o, "", "v");
        });
        assert_eq!(
            l,
            "level=INFO msg=\"hello world\" i=-42 u=42 i128=-1267650600228229401496703205376 \
             u128=340282366920938463463374607431768211455 f=2.5 nan=NaN ninf=-inf b=false \
             latency_ms=0.412 dbg=\"[\\\"a b\\\"]\" bad_key_=7 _=v\n"
        );
        let pairs = parse_line(&l).unwrap();
        assert_eq!(pairs.len(), 14);
        assert_eq!(pairs[11].1, r#"["a b"]"#);
    }

    #[test]
    fn buffer_reuse_and_several_records() {
        let mut out = Vec::new();
        for i in 0..3 {
            ENC.begin(&mut out);
            ENC.u64(&mut out, "n", i);
            ENC.str(&mut out, "s", "x y");
            ENC.finish(&mut out);
        }
        assert_eq!(out, b"n=0 s=\"x y\"\nn=1 s=\"x y\"\nn=2 s=\"x y\"\n");
        out.clear();
        ENC.begin(&mut out);
        ENC.str(&mut out, "a", "1");
        ENC.finish(&mut out);
        assert_eq!(out, b"a=1\n");
    }

    #[test]
    fn failing_display_keeps_partial_text_well_formed() {
        struct Fails;
        impl fmt::Display for Fails {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("half \"done")?;
                Err(fmt::Error)
            }
        }
        let l = line(|o| {
            ENC.display(o, "v", &Fails);
            ENC.u64(o, "next", 1);
        });
        assert_eq!(l, "v=\"half \\\"done\" next=1\n");
        parse_line(&l).unwrap();
    }

    #[test]
    fn display_does_not_allocate_when_capacity_suffices() {
        // Reusing a buffer with room: formatting a Display value never grows it.
        let mut out = Vec::with_capacity(256);
        let ptr = out.as_ptr();
        for _ in 0..100 {
            out.clear();
            ENC.begin(&mut out);
            ENC.display(
                &mut out,
                "msg",
                &format_args!("user {} said \"{}\"", 42, "hi\nthere"),
            );
            ENC.debug(&mut out, "opt", &Some(1.5));
            ENC.finish(&mut out);
        }
        assert_eq!(out.as_ptr(), ptr);
        assert_eq!(
            out,
            b"msg=\"user 42 said \\\"hi\\nthere\\\"\" opt=Some(1.5)\n"
        );
    }
}
