//! Text the pages write without HTML escaping, because it cannot hold markup.
//!
//! askama escapes every value a template prints, byte by byte. Most of what the checkout page
//! prints is caisse's own: message catalogs, session ids in URLs, CSRF tokens, amounts. Escaping
//! that changes nothing and was a sixth of the page's rendering. [`Plain`] marks such text as
//! safe to write as it is; anything from a merchant or a customer (titles, names, codes) keeps
//! going through the escaper.

use std::fmt;

use askama::filters::{Escaper, HtmlSafe};
use askama::{FastWritable, Values};
use uuid::Uuid;

/// Whether `s` has none of the characters HTML escaping would change, so that escaping it is
/// the identity.
pub fn is_plain(s: &str) -> bool {
    !s.bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\''))
}

/// A value whose text has none of `< > & " '`, by construction: ids, hex digits, amounts and
/// paths caisse builds itself. Built from anything else it is a hole in the page, so the
/// constructors say what they take; debug builds (and so the tests) check every one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain<T>(T);

impl<T: fmt::Display> Plain<T> {
    /// `value`, which the caller builds only from ids, digits, hex and fixed ASCII text.
    pub fn built(value: T) -> Plain<T> {
        debug_assert!(is_plain(&value.to_string()), "not plain text: {value}");
        Plain(value)
    }
}

impl Plain<String> {
    /// Merchant or customer text, escaped once: the page prints a title and a shop's name
    /// twice, and escaping runs byte by byte.
    pub fn escaped(text: &str) -> Plain<String> {
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        // Writing into a String cannot fail.
        let _ = askama::filters::Html.write_escaped_str(&mut out, text);
        Plain(out)
    }
}

impl<T: fmt::Display> fmt::Display for Plain<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: fmt::Display> HtmlSafe for Plain<T> {}

// Written straight into the page, not through `fmt`'s machinery.
impl FastWritable for Plain<String> {
    fn write_into(&self, dest: &mut dyn fmt::Write, _: &dyn Values) -> askama::Result<()> {
        Ok(dest.write_str(&self.0)?)
    }
}

impl FastWritable for Plain<&str> {
    fn write_into(&self, dest: &mut dyn fmt::Write, _: &dyn Values) -> askama::Result<()> {
        Ok(dest.write_str(self.0)?)
    }
}

impl FastWritable for Plain<Uuid> {
    fn write_into(&self, dest: &mut dyn fmt::Write, _: &dyn Values) -> askama::Result<()> {
        let mut buf = Uuid::encode_buffer();
        Ok(dest.write_str(self.0.hyphenated().encode_lower(&mut buf))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::Template;

    #[derive(Template)]
    #[template(source = "{{ plain }}|{{ other }}", ext = "html")]
    struct Both<'a> {
        plain: Plain<&'a str>,
        other: &'a str,
    }

    #[test]
    fn plain_text_is_written_as_it_is_and_the_rest_escaped() {
        let page = Both {
            plain: Plain::built("/checkout/1?lang=fr"),
            other: "<b>\"Tom\" & 'Jerry'</b>",
        };
        assert_eq!(
            page.render().unwrap(),
            "/checkout/1?lang=fr|&#60;b&#62;&#34;Tom&#34; &#38; &#39;Jerry&#39;&#60;/b&#62;"
        );
    }

    #[test]
    fn text_escaped_once_prints_as_the_escaper_would() {
        let text = "<b>\"Tom\" & 'Jerry'</b> · Côte d’Ivoire";
        let escaped = Plain::escaped(text);
        let page = Both {
            plain: Plain(escaped.0.as_str()),
            other: text,
        };
        let rendered = page.render().unwrap();
        let (once, every_time) = rendered.split_once('|').unwrap();
        assert_eq!(once, every_time);
        assert_ne!(once, text);
    }

    #[test]
    fn only_text_without_markup_characters_is_plain() {
        assert!(is_plain("10 000 F CFA · Payer"));
        for s in ["<", ">", "&", "\"", "'"] {
            assert!(!is_plain(s), "{s}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not plain text")]
    fn building_plain_text_from_markup_is_caught_in_debug_builds() {
        let _ = Plain::built("<script>");
    }
}
