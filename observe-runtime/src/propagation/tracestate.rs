//! The W3C `tracestate` header: validated as a whole, passed on unchanged.

/// Most list members a `tracestate` may have.
const MAX_MEMBERS: usize = 32;
/// Longest key and longest value.
const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 256;

/// Combines every `tracestate` header field of a request (in order, as HTTP combines
/// repeated fields with commas) into the list to pass on, or `None` when there is nothing
/// valid to pass on.
///
/// The list is checked as a whole: one invalid member (bad key or value characters, a key
/// or value too long, an empty value) or more than 32 members discards all of it, as the
/// specification allows. Empty members and blanks around commas are dropped; a key that
/// repeats keeps its first member. An empty result is `None`, so no empty header is sent.
pub(crate) fn combine<'a>(fields: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for field in fields {
        for member in field.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, value) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(value) {
                return None;
            }
            if members.iter().any(|(k, _)| *k == key) {
                continue;
            }
            members.push((key, value));
            if members.len() > MAX_MEMBERS {
                return None;
            }
        }
    }
    if members.is_empty() {
        return None;
    }
    let mut list = String::with_capacity(members.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        list.push_str(key);
        list.push('=');
        list.push_str(value);
    }
    Some(list)
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" )`
/// (Trace Context Level 2's key grammar, which also admits Level 1's `tenant@system` keys).
fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_KEY
        && matches!(bytes[0], b'a'..=b'z' | b'0'..=b'9')
        && bytes[1..]
            .iter()
            .all(|&b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@'))
}

/// `value = 0*255(chr) nblk-chr`, `chr = %x20 / nblk-chr`,
/// `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`: printable ASCII but `,` and `=`, not ending in a
/// space, at least one character.
fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let chr = |b: u8| matches!(b, 0x20..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    !bytes.is_empty()
        && bytes.len() <= MAX_VALUE
        && bytes.iter().all(|&b| chr(b))
        && bytes[bytes.len() - 1] != b' '
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Option<String> {
        combine([value])
    }

    #[test]
    fn members_pass_through_in_order() {
        assert_eq!(one("foo=1,bar=2").as_deref(), Some("foo=1,bar=2"));
        assert_eq!(
            combine(["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]).as_deref(),
            Some("foo=1,bar=2,rojo=1,congo=2,baz=3")
        );
    }

    #[test]
    fn blanks_and_empty_members_are_dropped() {
        assert_eq!(
            one("foo=1 \t , \t bar=2, \t baz=3").as_deref(),
            Some("foo=1,bar=2,baz=3")
        );
        assert_eq!(one("\t foo=1 \t").as_deref(), Some("foo=1"));
        assert_eq!(one("foo=1,,bar=2").as_deref(), Some("foo=1,bar=2"));
        assert_eq!(combine(["", "foo=1"]).as_deref(), Some("foo=1"));
        assert_eq!(combine(["foo=1", ""]).as_deref(), Some("foo=1"));
    }

    #[test]
    fn nothing_to_pass_on_is_none() {
        assert_eq!(one(""), None);
        assert_eq!(one(" , "), None);
        assert_eq!(combine([] as [&str; 0]), None);
    }

    #[test]
    fn one_bad_member_discards_the_list() {
        for bad in [
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "@foo=1,bar=2",
            "foo=bar=baz",
            "foo=,bar=3",
            "foo",
            "foo=1 2,x=\u{7f}",
            "=1",
        ] {
            assert_eq!(one(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn vendor_keys() {
        for key in ["foo@", "foo@@bar", "foo@bar@baz", "tenant@system"] {
            let list = format!("{key}=1,bar=2");
            assert_eq!(one(&list), Some(list.clone()), "{key}");
        }
    }

    #[test]
    fn every_allowed_character() {
        let key: String = ('a'..='z')
            .chain('0'..='9')
            .chain(['_', '-', '*', '/'])
            .collect();
        let value: String = (0x20u8..=0x7e)
            .filter(|&b| b != b',' && b != b'=')
            .map(char::from)
            .collect();
        let list = format!("{key}={value}");
        assert_eq!(one(&list), Some(list.clone()));
        let vendor = format!("{key}@a-z0-9_-*/={value}");
        assert_eq!(one(&vendor), Some(vendor.clone()));
    }

    #[test]
    fn limits() {
        let members = |n: usize| {
            (1..=n)
                .map(|i| format!("bar{i:02}={i:02}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(one(&members(32)).map(|l| l.split(',').count()), Some(32));
        assert_eq!(one(&members(33)), None);
        let long_key = "z".repeat(256);
        assert!(combine(["foo=1", &format!("{long_key}=1")]).is_some());
        assert_eq!(combine(["foo=1", &format!("z{long_key}=1")]), None);
        let vendor_key = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        assert!(combine(["foo=1", &format!("{vendor_key}=1")]).is_some());
        assert!(one(&format!("k={}", "v".repeat(256))).is_some());
        assert_eq!(one(&format!("k={}", "v".repeat(257))), None);
    }

    #[test]
    fn repeated_keys_keep_the_first() {
        assert_eq!(one("foo=1,foo=1").as_deref(), Some("foo=1"));
        assert_eq!(combine(["foo=1", "foo=2"]).as_deref(), Some("foo=1"));
    }
}
