//! The page's words, from the message catalogs in `locales/` (one JSON file per language).
//!
//! Each catalog must have every message: a missing or unknown key fails to load, and the unit
//! tests load both, so a language can never be half translated.

use std::sync::LazyLock;

use askama::filters::HtmlSafe;
use askama::{FastWritable, Values};
use serde::Deserialize;

use super::html::is_plain;
use crate::domain::money::Locale;
use crate::domain::provider::Provider;

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

/// What the page needs of a language: its code, its own name (for the language switch), how it
/// writes money, and its catalog.
pub struct Language {
    pub code: &'static str,
    pub name: &'static str,
    pub locale: Locale,
    messages: &'static LazyLock<Messages>,
}

/// Every language, in the order the switch lists them, each at the place of its [`Lang`]. A
/// language is its catalog in `locales/`, its variant, and its row here; the template and the
/// money formatting walk this table.
const LANGUAGES: [Language; 2] = [
    Language {
        code: "fr",
        name: "Français",
        locale: Locale::FR,
        messages: &FR,
    },
    Language {
        code: "en",
        name: "English",
        locale: Locale::EN,
        messages: &EN,
    },
];

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn language(self) -> &'static Language {
        &LANGUAGES[self as usize]
    }

    pub fn code(self) -> &'static str {
        self.language().code
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.code()))
    }

    pub fn locale(self) -> &'static Locale {
        &self.language().locale
    }

    pub fn messages(self) -> &'static Messages {
        self.language().messages
    }

    /// The first supported language of an `Accept-Language` header, by preference.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let lang = Lang::parse(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }
}

/// A message of a catalog. Catalogs are caisse's own text and hold none of the characters HTML
/// escaping changes (`< > & " '`; French uses the typographic apostrophe ’), which loading
/// checks, so the pages print messages without escaping them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Text(String);

impl TryFrom<String> for Text {
    type Error = String;

    fn try_from(s: String) -> Result<Text, String> {
        if is_plain(&s) {
            Ok(Text(s))
        } else {
            Err(format!(
                "{s:?} has a character that HTML would escape (< > & \" ')"
            ))
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl HtmlSafe for Text {}

impl FastWritable for Text {
    fn write_into(&self, dest: &mut dyn std::fmt::Write, _: &dyn Values) -> askama::Result<()> {
        Ok(dest.write_str(&self.0)?)
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Every message of the page. Placeholders in braces (`{amount}`) are filled by [`fill`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    pub lang: Text,
    pub page_title_suffix: Text,
    pub test_mode: Text,
    pub unit_price: Text,
    pub quantity: Text,
    pub update_quantity: Text,
    pub subtotal: Text,
    pub discount: Text,
    pub total: Text,
    pub coupon_label: Text,
    pub coupon_apply: Text,
    pub coupon_remove: Text,
    pub coupon_applied: Text,
    pub your_details: Text,
    pub name: Text,
    pub email: Text,
    pub phone: Text,
    pub phone_hint: Text,
    pub phone_hint_local: Text,
    pub optional: Text,
    pub payment_method: Text,
    pub pay: Text,
    pub complete_free: Text,
    pub no_provider: Text,
    pub cancel: Text,
    pub back_to_merchant: Text,
    pub change_method: Text,
    pub check_status: Text,
    pub waiting: Text,
    pub scan_title: Text,
    pub scan_instructions: Text,
    pub pos_instructions: Text,
    pub copy_payload: Text,
    pub payload_label: Text,
    pub qr_alt: Text,
    pub spi_account: Text,
    pub sandbox_title: Text,
    pub sandbox_success: Text,
    pub sandbox_failure: Text,
    pub payment_failed: Text,
    pub expired_title: Text,
    pub expired_body: Text,
    pub receipt_title: Text,
    pub receipt_body: Text,
    pub receipt_reference: Text,
    pub not_found_title: Text,
    pub not_found_body: Text,
    pub unavailable_title: Text,
    pub unavailable_body: Text,
    pub unavailable_retry: Text,
    pub error_quantity: Text,
    pub error_coupon_unknown: Text,
    pub error_coupon_inactive: Text,
    pub error_coupon_not_yet_valid: Text,
    pub error_coupon_expired: Text,
    pub error_coupon_used_up: Text,
    pub error_coupon_quantity: Text,
    pub error_coupon_currency: Text,
    pub error_coupon_rate_limited: Text,
    pub error_coupon_removed: Text,
    pub error_name: Text,
    pub error_email: Text,
    pub error_phone: Text,
    pub error_phone_country: Text,
    pub link_continue: Text,
    pub link_amount: Text,
    pub link_amount_hint: Text,
    pub link_share: Text,
    pub link_poster: Text,
    pub link_unavailable_title: Text,
    pub link_unavailable_body: Text,
    pub error_link_amount: Text,
    pub link_poster_scan: Text,
    pub error_phone_required: Text,
    pub error_provider: Text,
    pub error_form_expired: Text,
    pub error_not_open: Text,
    pub error_payment_pending: Text,
    pub provider_unavailable: Text,
    pub payment_rate_limited: Text,
    pub continue_to_provider: Text,
    pub momo_approve: Text,
    pub momo_no_prompt_ussd: Text,
    pub momo_no_prompt: Text,
    pub momo_time_left: Text,
    pub momo_failed_payer_not_found: Text,
    pub momo_failed_rejected: Text,
    pub momo_failed_expired: Text,
    pub momo_failed_funds: Text,
    pub momo_failed_other: Text,
    pub language: Text,
    pub secured_by: Text,
    pub provider_spi: Text,
    pub provider_wave: Text,
    pub provider_orange: Text,
    pub provider_mtn: Text,
    pub provider_moov: Text,
    pub provider_card: Text,
}

impl Messages {
    /// The display name of a provider code.
    pub fn provider(&self, provider: Provider) -> &Text {
        match provider {
            Provider::Spi => &self.provider_spi,
            Provider::Wave => &self.provider_wave,
            Provider::Orange => &self.provider_orange,
            Provider::Mtn => &self.provider_mtn,
            Provider::Moov => &self.provider_moov,
            Provider::Card => &self.provider_card,
        }
    }
}

fn load(name: &str, json: &str) -> Messages {
    serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("the {name} message catalog is incomplete: {e}"))
}

static FR: LazyLock<Messages> =
    LazyLock::new(|| load("French", include_str!("../../locales/fr.json")));
static EN: LazyLock<Messages> =
    LazyLock::new(|| load("English", include_str!("../../locales/en.json")));

/// Fills `{name}` placeholders in a message, in one pass: a value is never read for
/// placeholders, and an unknown `{…}` stays as it is.
pub fn fill(message: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(message.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = values.iter().find(|(n, _)| *n == name)?;
            Some((value, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_markup_characters_does_not_load() {
        for bad in ["a < b", "a > b", "R&D", "say \"hi\"", "l'achat"] {
            assert!(Text::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(&*Text::try_from("l’achat".to_string()).unwrap(), "l’achat");
    }

    #[test]
    fn every_language_has_its_row_and_a_complete_catalog() {
        for (i, lang) in Lang::ALL.into_iter().enumerate() {
            assert_eq!(lang as usize, i, "{lang:?} is at its place in Lang::ALL");
            assert_eq!(lang.messages().lang, lang.code(), "{lang:?}'s catalog");
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
        assert_eq!(Lang::ALL.len(), LANGUAGES.len());
        assert_ne!(Lang::Fr.messages().total, Lang::En.messages().total);
    }

    #[test]
    fn accept_language_is_read_by_preference() {
        assert_eq!(
            Lang::from_accept_language("fr-CI,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, en;q=0.5, fr;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, fr;q=0.9"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("de, es"), None);
        assert_eq!(Lang::from_accept_language("fr;q=0"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("Payer {amount}", &[("amount", "10 F")]), "Payer 10 F");
        assert_eq!(
            fill("{a} et {b}, {a}", &[("a", "{b}"), ("b", "deux")]),
            "{b} et deux, {b}"
        );
        assert_eq!(fill("{unknown} {", &[("a", "1")]), "{unknown} {");
    }
}
