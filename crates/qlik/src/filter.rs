//! SCIM filters for the users and groups lists: quoting, and `or` chains split into chunks
//! that keep URLs short.

use url::form_urlencoded;

/// The longest filter (URL-encoded) one lookup sends; with the rest of the URL it stays well under
/// the 2,000 characters that proxies and servers reliably accept.
pub const MAX_FILTER_LEN: usize = 1500;

/// The most values one lookup asks for: below the largest page (100), so one chunk is usually
/// one request.
pub const MAX_TERMS: usize = 50;

/// A SCIM string literal: the value in double quotes, with `\` and `"` escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `attr eq "value"`.
pub fn eq(attr: &str, value: &str) -> String {
    format!("{attr} eq {}", quote(value))
}

fn encoded_len(text: &str) -> usize {
    form_urlencoded::byte_serialize(text.as_bytes())
        .map(str::len)
        .sum()
}

/// `attr eq "a" or attr eq "b" ...` filters covering every value once, each at most
/// [`MAX_TERMS`] terms and [`MAX_FILTER_LEN`] encoded characters (a single longer value still
/// gets a filter of its own).
pub fn or_chunks<S: AsRef<str>>(attr: &str, values: &[S]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    let mut terms = 0;
    for value in values {
        let term = eq(attr, value.as_ref());
        let term_len = encoded_len(&term);
        let joiner_len = encoded_len(" or ");
        if terms > 0 && (terms >= MAX_TERMS || current_len + joiner_len + term_len > MAX_FILTER_LEN) {
            chunks.push(std::mem::take(&mut current));
            current_len = 0;
            terms = 0;
        }
        if terms > 0 {
            current.push_str(" or ");
            current_len += joiner_len;
        }
        current.push_str(&term);
        current_len += term_len;
        terms += 1;
    }
    if terms > 0 {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(eq("email", "x@y.z"), r#"email eq "x@y.z""#);
    }

    #[test]
    fn chunks_stay_short_and_cover_everything() {
        let values: Vec<String> = (0..237).map(|i| format!("user{i}+tag@example.com")).collect();
        let chunks = or_chunks("email", &values);
        assert!(chunks.len() >= 5);
        let mut seen = 0;
        for chunk in &chunks {
            assert!(encoded_len(chunk) <= MAX_FILTER_LEN);
            let terms = chunk.split(" or ").count();
            assert!(terms <= MAX_TERMS);
            seen += terms;
        }
        assert_eq!(seen, values.len());
        assert!(or_chunks::<&str>("email", &[]).is_empty());
    }
}
