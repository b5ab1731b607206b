//! Escaping text values: the one loop both formats run, each with its own [`Escapes`] rules
//! (which ASCII bytes ask for quotes or an escape, how a control character is written).
//!
//! Both formats escape the same characters: `"`, `\`, the C0 controls, DEL, the C1 controls
//! and the Unicode line and paragraph separators U+2028 and U+2029. `"`, `\`, newline, CR and
//! tab have the same short escapes in both; the rest is the format's own.

use std::fmt;
use std::marker::PhantomData;

/// What an ASCII byte asks of a value: nothing, quotes (logfmt only), or an escape.
pub(crate) const SAFE: u8 = 0;
pub(crate) const QUOTE: u8 = 1;
pub(crate) const ESCAPE: u8 = 2;

/// The classes of the ASCII bytes: C0 controls, DEL, `"` and `\` are escaped; `quoted`
/// bytes ask for quotes; the rest are safe.
pub(crate) const fn ascii_classes(quoted: &[u8]) -> [u8; 128] {
    let mut t = [SAFE; 128];
    let mut i = 0;
    while i < quoted.len() {
        t[quoted[i] as usize] = QUOTE;
        i += 1;
    }
    let mut b = 0;
    while b < 128 {
        if b < 0x20 || b == 0x7f || b == b'"' as usize || b == b'\\' as usize {
            t[b] = ESCAPE;
        }
        b += 1;
    }
    t
}

/// A format's escaping rules.
pub(crate) trait Escapes {
    /// The class of each ASCII byte ([`ascii_classes`]).
    const ASCII: &'static [u8; 128];
    /// Whether non-ASCII whitespace (U+00A0, U+3000 …) asks for quotes.
    const QUOTE_WHITESPACE: bool;
    /// Appends the escape of a control character other than newline, CR and tab, or of
    /// U+2028 or U+2029.
    fn push_other_escape(out: &mut Vec<u8>, c: char);
}

/// Whether a non-ASCII `c` is escaped: the C1 controls, U+2028 and U+2029.
#[inline]
pub(crate) fn non_ascii_needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Appends the escape of `c`, which [`Escapes::ASCII`] or [`non_ascii_needs_escape`]
/// flagged.
#[cold]
fn push_escape<E: Escapes>(out: &mut Vec<u8>, c: char) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\t' => out.extend_from_slice(b"\\t"),
        _ => E::push_other_escape(out, c),
    }
}

/// Appends `s` escaped for use inside quotes and returns whether the value needs quotes
/// (by [`Escapes::ASCII`] and [`Escapes::QUOTE_WHITESPACE`], or because something was
/// escaped; an empty value is the caller's to judge).
///
/// The escaped form of a value that needs no quotes is the value itself, so a caller can
/// decide on quotes afterwards.
#[inline]
pub(crate) fn escape_into<E: Escapes>(out: &mut Vec<u8>, s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut quote = false;
    let mut run = 0; // start of the bytes not yet copied
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            match E::ASCII[b as usize] {
                SAFE => {}
                QUOTE => quote = true,
                _ => {
                    out.extend_from_slice(&bytes[run..i]);
                    push_escape::<E>(out, b as char);
                    quote = true;
                    run = i + 1;
                }
            }
            i += 1;
        } else {
            // Cheap: only reached for non-ASCII text, and `i` is on a char boundary.
            let c = s[i..].chars().next().unwrap_or_default();
            let len = c.len_utf8();
            if non_ascii_needs_escape(c) {
                out.extend_from_slice(&bytes[run..i]);
                push_escape::<E>(out, c);
                quote = true;
                run = i + len;
            } else if E::QUOTE_WHITESPACE && c.is_whitespace() {
                quote = true;
            }
            i += len;
        }
    }
    out.extend_from_slice(&bytes[run..]);
    quote
}

/// A `fmt::Write` that escapes into the line buffer and remembers whether quotes are needed.
struct Escaper<'a, E> {
    out: &'a mut Vec<u8>,
    quote: bool,
    _format: PhantomData<E>,
}

impl<E: Escapes> fmt::Write for Escaper<'_, E> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.quote |= escape_into::<E>(self.out, s);
        Ok(())
    }
}

/// Formats `args` straight into `out`, escaping on the way, and returns whether the text
/// needs quotes (as [`escape_into`] tells). A `fmt::Error` from the value's own impl keeps
/// what it wrote before failing.
#[inline]
pub(crate) fn escape_fmt_into<E: Escapes>(out: &mut Vec<u8>, args: fmt::Arguments<'_>) -> bool {
    let mut escaper = Escaper::<E> {
        out,
        quote: false,
        _format: PhantomData,
    };
    let _ = fmt::write(&mut escaper, args);
    escaper.quote
}
