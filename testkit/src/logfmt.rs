//! A strict logfmt parser that reads observe's log lines back, for tests.
//!
//! It accepts exactly what observe's logfmt encoder (`LogFormat::Logfmt` in
//! `observe_runtime::log`) can produce and rejects everything else, so a test that parses a
//! line also checks its encoding:
//!
//! - a line is `key=value` pairs separated by exactly one space, with no leading or trailing
//!   space, optionally ending in one `\n` (an empty line is a record with no fields);
//! - a key is one or more of `[A-Za-z0-9_.:-]`;
//! - a bare value is non-empty and holds no space, `=`, `"`, `\`, control character or
//!   Unicode whitespace (those force quotes);
//! - a quoted value is `"…"`, must need its quotes (it is empty or holds one of the characters
//!   above), holds no raw control character, U+2028 or U+2029, and uses only the escapes
//!   `\"` `\\` `\n` `\r` `\t` and `\u{XX}`: lowercase hex, at least two digits without extra
//!   leading zeros, only for the control characters other than newline, CR and tab, and for
//!   U+2028 and U+2029.
//!
//! Duplicate keys are allowed (the encoder writes what it is given); pairs keep line order.
//!
//! ```
//! use observe_testkit::logfmt::parse_line;
//!
//! let pairs = parse_line("level=INFO msg=\"saved \\\"a\\\"\\n\" rows=3\n").unwrap();
//! assert_eq!(pairs, vec![
//!     ("level".to_string(), "INFO".to_string()),
//!     ("msg".to_string(), "saved \"a\"\n".to_string()),
//!     ("rows".to_string(), "3".to_string()),
//! ]);
//! assert!(parse_line("msg=\"unterminated").is_err());
//! assert!(parse_line("a=1  b=2").is_err());
//! ```

use std::fmt;

/// Why a line is not something the encoder would write, and where (a byte offset).
///
/// ```
/// use observe_testkit::logfmt::{parse_line, ParseErrorKind};
///
/// let err = parse_line("a=\"x").unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::UnterminatedQuote);
/// assert_eq!(err.offset, 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the line where the problem is.
    pub offset: usize,
    /// What the problem is.
    pub kind: ParseErrorKind,
}

/// The kinds of [`ParseError`].
///
/// ```
/// use observe_testkit::logfmt::{parse_line, ParseErrorKind};
///
/// assert_eq!(parse_line("a").unwrap_err().kind, ParseErrorKind::MissingEquals);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// `=value` with no key.
    EmptyKey,
    /// A key character outside `[A-Za-z0-9_.:-]`.
    BadKeyChar(char),
    /// A key not followed by `=`.
    MissingEquals,
    /// `key=` followed by a space or the end: empty values are written `""`.
    EmptyValue,
    /// A character in a bare value that the encoder would have quoted.
    BareValueChar(char),
    /// A raw control character (or U+2028/U+2029) inside quotes: the encoder escapes them.
    RawControl(char),
    /// A quoted value without its closing quote.
    UnterminatedQuote,
    /// An escape the encoder never writes (`\x`, `\u{41}`, `\u{A}` …).
    BadEscape,
    /// A quoted value that needed no quotes.
    UnneededQuotes,
    /// Not exactly one space between pairs, a space at either end, or text right after a
    /// closing quote.
    BadSeparator,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ParseErrorKind::EmptyKey => "empty key".to_string(),
            ParseErrorKind::BadKeyChar(c) => format!("character {c:?} not allowed in a key"),
            ParseErrorKind::MissingEquals => "key without `=`".to_string(),
            ParseErrorKind::EmptyValue => "empty bare value (expected `\"\"`)".to_string(),
            ParseErrorKind::BareValueChar(c) => format!("character {c:?} needs quotes"),
            ParseErrorKind::RawControl(c) => format!("raw {c:?} inside quotes"),
            ParseErrorKind::UnterminatedQuote => "unterminated quoted value".to_string(),
            ParseErrorKind::BadEscape => "escape the encoder never writes".to_string(),
            ParseErrorKind::UnneededQuotes => "quoted value that needs no quotes".to_string(),
            ParseErrorKind::BadSeparator => "pairs must be separated by one space".to_string(),
        };
        write!(f, "logfmt: {what} at byte {}", self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Whether the encoder escapes `c` as `\u{..}` (the control characters other than newline,
/// CR and tab, plus the Unicode line and paragraph separators).
fn escaped_as_unicode(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `c` forces the encoder to quote a value.
fn needs_quotes(c: char) -> bool {
    matches!(c, ' ' | '=' | '"' | '\\') || c.is_control() || c.is_whitespace()
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// Parses one line written by the logfmt encoder into its `(key, value)` pairs, unescaping
/// quoted values; rejects anything the encoder would never write (see the module docs).
///
/// ```
/// use observe_testkit::logfmt::parse_line;
///
/// let pairs = parse_line("k=\"\" t=\"a\\tb\\u{1b}\"").unwrap();
/// assert_eq!(pairs[0], ("k".to_string(), String::new()));
/// assert_eq!(pairs[1].1, "a\tb\u{1b}");
/// assert!(parse_line("k=\"plain\"").is_err()); // needless quotes
/// assert!(parse_line("k=a\"b").is_err()); // a quote in a bare value
/// ```
pub fn parse_line(line: &str) -> Result<Vec<(String, String)>, ParseError> {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let mut pairs = Vec::new();
    if body.is_empty() {
        return Ok(pairs);
    }
    let err = |offset, kind| Err(ParseError { offset, kind });
    let mut chars = body.char_indices().peekable();
    loop {
        // Key.
        let key_start = chars.peek().map_or(body.len(), |&(i, _)| i);
        let mut key = String::new();
        loop {
            match chars.next() {
                Some((_, '=')) => break,
                Some((_, c)) if is_key_char(c) => key.push(c),
                Some((i, ' ')) | Some((i, '\n')) => return err(i, ParseErrorKind::MissingEquals),
                Some((i, c)) => return err(i, ParseErrorKind::BadKeyChar(c)),
                None => return err(body.len(), ParseErrorKind::MissingEquals),
            }
        }
        if key.is_empty() {
            return err(key_start, ParseErrorKind::EmptyKey);
        }

        // Value.
        let mut value = String::new();
        match chars.peek().copied() {
            None | Some((_, ' ')) => {
                let at = chars.peek().map_or(body.len(), |&(i, _)| i);
                return err(at, ParseErrorKind::EmptyValue);
            }
            Some((open, '"')) => {
                chars.next();
                let mut needed = false;
                loop {
                    match chars.next() {
                        None => return err(open, ParseErrorKind::UnterminatedQuote),
                        Some((_, '"')) => break,
                        Some((at, '\\')) => {
                            needed = true;
                            value.push(unescape(&mut chars, at)?);
                        }
                        Some((at, c)) if c.is_control() || escaped_as_unicode(c) => {
                            return err(at, ParseErrorKind::RawControl(c));
                        }
                        Some((_, c)) => {
                            needed |= needs_quotes(c);
                            value.push(c);
                        }
                    }
                }
                if !needed && !value.is_empty() {
                    return err(open, ParseErrorKind::UnneededQuotes);
                }
                if let Some(&(at, c)) = chars.peek()
                    && c != ' '
                {
                    return err(at, ParseErrorKind::BadSeparator);
                }
            }
            Some(_) => {
                while let Some(&(at, c)) = chars.peek() {
                    if c == ' ' {
                        break;
                    }
                    if needs_quotes(c) {
                        return err(at, ParseErrorKind::BareValueChar(c));
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        pairs.push((key, value));

        // Separator.
        match chars.next() {
            None => return Ok(pairs),
            Some((at, ' ')) => match chars.peek() {
                None | Some((_, ' ')) => return err(at, ParseErrorKind::BadSeparator),
                Some(_) => {}
            },
            Some((at, _)) => return err(at, ParseErrorKind::BadSeparator),
        }
    }
}

/// Reads the escape after a `\` at byte `at`.
fn unescape(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    at: usize,
) -> Result<char, ParseError> {
    let bad = Err(ParseError {
        offset: at,
        kind: ParseErrorKind::BadEscape,
    });
    match chars.next().map(|(_, c)| c) {
        Some('"') => Ok('"'),
        Some('\\') => Ok('\\'),
        Some('n') => Ok('\n'),
        Some('r') => Ok('\r'),
        Some('t') => Ok('\t'),
        Some('u') => {
            if chars.next().map(|(_, c)| c) != Some('{') {
                return bad;
            }
            let mut digits = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('}') => break,
                    Some(c @ ('0'..='9' | 'a'..='f')) if digits.len() < 6 => digits.push(c),
                    _ => return bad,
                }
            }
            let Some(c) = u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
            else {
                return bad;
            };
            // Only the canonical spelling of a character the encoder escapes this way.
            if !escaped_as_unicode(c) || digits != format!("{:02x}", c as u32) {
                return bad;
            }
            Ok(c)
        }
        _ => bad,
    }
}

/// Parses several lines (each ending in `\n`, as the writer emits them) with [`parse_line`].
/// Error offsets are relative to the whole text.
///
/// ```
/// use observe_testkit::logfmt::parse_lines;
///
/// let lines = parse_lines("a=1\nb=\"x y\"\n").unwrap();
/// assert_eq!(lines.len(), 2);
/// assert_eq!(lines[1][0].1, "x y");
/// assert!(parse_lines("a=1").is_err()); // no final newline
/// ```
pub fn parse_lines(text: &str) -> Result<Vec<Vec<(String, String)>>, ParseError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') {
            return Err(ParseError {
                offset: offset + line.len(),
                kind: ParseErrorKind::BadSeparator,
            });
        }
        out.push(parse_line(line).map_err(|e| ParseError {
            offset: offset + e.offset,
            kind: e.kind,
        })?);
        offset += line.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> ParseErrorKind {
        parse_line(line).unwrap_err().kind
    }

    fn pairs(line: &str) -> Vec<(String, String)> {
        parse_line(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn accepts_what_the_encoder_writes() {
        assert_eq!(pairs(""), vec![]);
        assert_eq!(pairs("\n"), vec![]);
        assert_eq!(
            pairs("a=1 b=x.y:z-_ c=\"\" d=\"a b\" e=\"k=v\"\n"),
            [
                ("a", "1"),
                ("b", "x.y:z-_"),
                ("c", ""),
                ("d", "a b"),
                ("e", "k=v")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(pairs(r#"q="\"\\\n\r\t""#)[0].1, "\"\\\n\r\t");
        assert_eq!(
            pairs(r#"q="\u{00}\u{1f}\u{7f}\u{85}\u{2028}""#)[0].1,
            "\0\u{1f}\u{7f}\u{85}\u{2028}"
        );
        assert_eq!(pairs("u=日本 n=\"\u{a0}\"")[0].1, "日本");
        assert_eq!(pairs("a=1 a=2").len(), 2);
    }

    #[test]
    fn rejects_what_the_encoder_never_writes() {
        use ParseErrorKind::*;
        assert_eq!(kind("a"), MissingEquals);
        assert_eq!(kind("a b=1"), MissingEquals);
        assert_eq!(kind("=1"), EmptyKey);
        assert_eq!(kind("a b"), MissingEquals);
        assert_eq!(kind("ké=1"), BadKeyChar('é'));
        assert_eq!(kind("a="), EmptyValue);
        assert_eq!(kind("a= b=1"), EmptyValue);
        assert_eq!(kind("a=1  b=1"), BadSeparator);
        assert_eq!(kind(" a=1"), MissingEquals);
        assert_eq!(kind("a=1 "), BadSeparator);
        assert_eq!(kind("a=\"x y\"z"), BadSeparator);
        assert_eq!(kind("a=\"x"), UnterminatedQuote);
        assert_eq!(kind("a=\"x\\\""), UnterminatedQuote);
        assert_eq!(kind("a=\"x\""), UnneededQuotes);
        assert_eq!(kind("a=x\"y"), BareValueChar('"'));
        assert_eq!(kind("a=x=y"), BareValueChar('='));
        assert_eq!(kind("a=x\\y"), BareValueChar('\\'));
        assert_eq!(kind("a=x\ty"), BareValueChar('\t'));
        assert_eq!(kind("a=x\u{a0}y"), BareValueChar('\u{a0}'));
        assert_eq!(kind("a=x\ny"), BareValueChar('\n'));
        assert_eq!(kind("a=1\n\n"), BareValueChar('\n'));
        assert_eq!(kind("a=1\r\n"), BareValueChar('\r'));
        assert_eq!(kind("a=\"x\ny\""), RawControl('\n'));
        assert_eq!(kind("a=\"x\u{2028}\""), RawControl('\u{2028}'));
        assert_eq!(kind("a=\"x\u{7f}\""), RawControl('\u{7f}'));
        for bad in [
            r#"a="\x""#,
            r#"a="\u{41}""#,
            r#"a="\u{A}""#,
            r#"a="\u{0a}""#,
            r#"a="\u{1B}""#,
            r#"a="\u{1}""#,
            r#"a="\u{001b}""#,
            r#"a="\u{}""#,
            r#"a="\u1b""#,
            r#"a="\u{1b""#,
            r#"a="\u{d800}""#,
            r#"a="\u{1111111}""#,
            r#"a="\"#,
        ] {
            assert_eq!(kind(bad), BadEscape, "{bad}");
        }
    }

    #[test]
    fn errors_carry_offsets() {
        let e = parse_line("a=1 b=x\"y").unwrap_err();
        assert_eq!((e.offset, e.kind), (7, ParseErrorKind::BareValueChar('"')));
        assert!(e.to_string().contains("byte 7"));
        let e = parse_lines("a=1\nb=\"x\"\n").unwrap_err();
        assert_eq!((e.offset, e.kind), (6, ParseErrorKind::UnneededQuotes));
    }
}
