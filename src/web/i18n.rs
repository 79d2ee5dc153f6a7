//! The page's words, from the message catalogs in `locales/` (one JSON file per language).
//!
//! Each catalog must have every message: a missing or unknown key fails to load, and the unit
//! tests load both, so a language can never be half translated.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::domain::money::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn locale(self) -> Locale {
        match self {
            Lang::Fr => Locale::Fr,
            Lang::En => Locale::En,
        }
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
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

/// Every message of the page. Placeholders in braces (`{amount}`) are filled by [`fill`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    pub lang: String,
    pub page_title_suffix: String,
    pub test_mode: String,
    pub unit_price: String,
    pub quantity: String,
    pub update_quantity: String,
    pub subtotal: String,
    pub discount: String,
    pub total: String,
    pub coupon_label: String,
    pub coupon_apply: String,
    pub coupon_remove: String,
    pub coupon_applied: String,
    pub your_details: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub phone_hint: String,
    pub optional: String,
    pub payment_method: String,
    pub pay: String,
    pub complete_free: String,
    pub no_provider: String,
    pub cancel: String,
    pub back_to_merchant: String,
    pub change_method: String,
    pub check_status: String,
    pub waiting: String,
    pub scan_title: String,
    pub scan_instructions: String,
    pub pos_instructions: String,
    pub copy_payload: String,
    pub payload_label: String,
    pub qr_alt: String,
    pub spi_account: String,
    pub sandbox_title: String,
    pub sandbox_success: String,
    pub sandbox_failure: String,
    pub payment_failed: String,
    pub expired_title: String,
    pub expired_body: String,
    pub receipt_title: String,
    pub receipt_body: String,
    pub receipt_reference: String,
    pub not_found_title: String,
    pub not_found_body: String,
    pub error_quantity: String,
    pub error_coupon_unknown: String,
    pub error_coupon_inactive: String,
    pub error_coupon_not_yet_valid: String,
    pub error_coupon_expired: String,
    pub error_coupon_used_up: String,
    pub error_coupon_quantity: String,
    pub error_coupon_currency: String,
    pub error_coupon_rate_limited: String,
    pub error_coupon_removed: String,
    pub error_name: String,
    pub error_email: String,
    pub error_phone: String,
    pub error_phone_required: String,
    pub error_provider: String,
    pub error_form_expired: String,
    pub error_not_open: String,
    pub language: String,
    pub secured_by: String,
    pub provider_spi: String,
    pub provider_wave: String,
    pub provider_orange: String,
    pub provider_mtn: String,
    pub provider_moov: String,
    pub provider_card: String,
}

impl Messages {
    /// The display name of a provider code.
    pub fn provider<'a>(&'a self, code: &'a str) -> &'a str {
        match code {
            "SPI" => &self.provider_spi,
            "WAVE" => &self.provider_wave,
            "ORANGE" => &self.provider_orange,
            "MTN" => &self.provider_mtn,
            "MOOV" => &self.provider_moov,
            "CARD" => &self.provider_card,
            other => other,
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

/// Fills `{name}` placeholders in a message.
pub fn fill(message: &str, values: &[(&str, &str)]) -> String {
    let mut out = message.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_are_complete() {
        assert_eq!(Lang::Fr.messages().lang, "fr");
        assert_eq!(Lang::En.messages().lang, "en");
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
    }
}
