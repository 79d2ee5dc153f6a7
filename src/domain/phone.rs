//! Phone numbers as customers write them: `07 07 07 07 07` on a Côte d'Ivoire checkout,
//! `77 123 45 67` in Senegal, with or without `+225` or `00225`, read in the customer's country
//! with Google's libphonenumber data (the `phonenumber` crate), stored in E.164
//! (`+2250707070707`), and shown back grouped as the country writes them
//! (`+225 07 07 07 07 07`).
//!
//! A number is kept only when libphonenumber knows it as a possible, valid number of its
//! country: a digit too few or a range no network was given is refused with a message, rather
//! than sent to a provider that would fail the payment later.
//!
//! The network a mobile number belongs to is read from its prefix where a country's numbering
//! plan gives each network its own ([`network`]), so the page can preselect that provider. It
//! is only a preselection: the customer can choose another, and a number carried to another
//! network keeps its old prefix.

use std::str::FromStr;

use phonenumber::Mode;
use phonenumber::country::Id;

use super::provider::Provider;

/// A country a number is read in: an ISO 3166-1 alpha-2 code libphonenumber knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(Id);

impl Country {
    /// The country of an upper- or lower-case ISO 3166-1 alpha-2 code, if it has a numbering
    /// plan.
    pub fn from_code(code: &str) -> Option<Country> {
        Id::from_str(&code.trim().to_ascii_uppercase())
            .ok()
            .map(Country)
    }

    /// The country's calling code (`225` for Côte d'Ivoire).
    pub fn calling_code(self) -> Option<u16> {
        phonenumber::metadata::DATABASE
            .by_id(self.0.as_ref())
            .map(|m| m.country_code())
    }

    /// The country of an organization or a QR code, if it names one with a numbering plan.
    pub fn of(code: Option<&str>) -> Option<Country> {
        code.and_then(Country::from_code)
    }

    /// The country an MTN MoMo target environment names (`mtnivorycoast`, `mtnbenin`, …, as
    /// MTN's developer portal lists them); `None` for the sandbox or a name it does not list.
    pub fn of_mtn_environment(environment: &str) -> Option<Country> {
        let code = match environment.trim().to_ascii_lowercase().as_str() {
            "mtnivorycoast" => "CI",
            "mtnbenin" => "BJ",
            "mtncameroon" => "CM",
            "mtncongo" => "CG",
            "mtnguineaconakry" => "GN",
            "mtnghana" => "GH",
            "mtnuganda" => "UG",
            "mtnliberia" => "LR",
            "mtnzambia" => "ZM",
            "mtnswaziland" => "SZ",
            "mtnsouthafrica" => "ZA",
            _ => return None,
        };
        Country::from_code(code)
    }
}

/// Why a number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Written as dialled inside a country, with no country known to read it in.
    #[error("must start with + and the country code, e.g. +225 07 07 07 07 07")]
    NoCountry,
    /// Not a number any network of its country was given.
    #[error("is not a phone number that can be called, e.g. +225 07 07 07 07 07")]
    Impossible,
}

/// The longest input read: a number with its country code and generous spacing.
const MAX_INPUT: usize = 32;

/// `raw` as a customer wrote it, read in `country` (when it is not written with `+` or `00`
/// and the country code), in E.164.
pub fn parse(raw: &str, country: Option<Country>) -> Result<String, PhoneError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > MAX_INPUT {
        return Err(PhoneError::Impossible);
    }
    // Only what a person writes in a number: digits, spaces, dots, dashes, slashes,
    // parentheses, and one `+` before every digit (`+225 …`, `(+225) …`). Letters (vanity
    // numbers, extensions) are refused.
    let separator = |c: char| " .-/()\u{a0}".contains(c);
    if !raw
        .chars()
        .all(|c| c.is_ascii_digit() || c == '+' || separator(c))
    {
        return Err(PhoneError::Impossible);
    }
    let written: String = raw.chars().filter(|c| !separator(*c)).collect();
    let (plus, digits) = match written.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, written.as_str()),
    };
    if digits.contains('+') {
        return Err(PhoneError::Impossible);
    }
    let after_00 = digits.strip_prefix("00");
    let region = match (plus || after_00.is_some(), country) {
        (true, _) => None,
        (false, Some(Country(id))) => Some(id),
        (false, None) => return Err(PhoneError::NoCountry),
    };
    let written = match after_00 {
        Some(after) if !plus => format!("+{after}"),
        _ if plus => format!("+{digits}"),
        _ => digits.to_string(),
    };
    let number = phonenumber::parse(region, &written).map_err(|_| PhoneError::Impossible)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Impossible);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// An E.164 number as its country writes it for a caller abroad: `+221 77 123 45 67`, as
/// libphonenumber groups it, and `+225 07 07 07 07 07` in Côte d'Ivoire, whose ten digits are
/// written in pairs (libphonenumber groups the last four together). Anything else is shown as
/// it is.
pub fn grouped(e164: &str) -> String {
    let Some(number) = phonenumber::parse(None, e164)
        .ok()
        .filter(phonenumber::is_valid)
    else {
        return e164.to_string();
    };
    let code = number.code().value();
    if PAIRED.contains(&code) {
        let national = number.national().to_string();
        let national = format!(
            "{:0>width$}",
            national,
            width = national.len() + national.len() % 2
        );
        let pairs: Vec<&str> = (0..national.len())
            .step_by(2)
            .map(|i| &national[i..i + 2])
            .collect();
        return format!("+{code} {}", pairs.join(" "));
    }
    number.format().mode(Mode::International).to_string()
}

/// Country calling codes whose numbers are written in pairs of digits.
const PAIRED: [u16; 1] = [225];

/// The mobile-money provider whose network a number's prefix names, where the numbering plan
/// gives each network its own:
/// - Côte d'Ivoire (ARTCI's ten-digit plan, in force since 31 January 2021): mobiles `01`
///   Moov Africa, `05` MTN, `07` Orange.
/// - Senegal (ARTP's plan): `77` and `78` Orange; `70` (Expresso), `75` (Promobile) and `76`
///   (Free) are networks caisse takes no mobile money from.
///
/// Elsewhere, `None`: the customer chooses.
pub fn network(e164: &str) -> Option<Provider> {
    NETWORKS
        .iter()
        .find(|(_, prefixes)| prefixes.split(' ').any(|p| e164.starts_with(p)))
        .map(|(provider, _)| *provider)
}

/// Each network's E.164 prefixes, space-separated, as [`network`] reads them and the page's
/// script is given them.
const NETWORKS: [(Provider, &str); 3] = [
    (Provider::Moov, "+22501"),
    (Provider::Mtn, "+22505"),
    (Provider::Orange, "+22507 +22177 +22178"),
];

/// The prefixes of `provider`'s network, space-separated, for the page's script that
/// preselects it as the customer types; `None` for a provider no prefix names.
pub fn prefixes_of(provider: Provider) -> Option<&'static str> {
    NETWORKS
        .iter()
        .find(|(p, _)| *p == provider)
        .map(|(_, prefixes)| *prefixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci() -> Option<Country> {
        Country::from_code("CI")
    }

    fn sn() -> Option<Country> {
        Country::from_code("sn")
    }

    #[test]
    fn numbers_are_read_as_people_write_them_in_their_country() {
        for raw in [
            "07 07 07 07 07",
            "0707070707",
            "07.07.07.07.07",
            "07-07-07-07-07",
            "+225 07 07 07 07 07",
            "+2250707070707",
            "00225 07 07 07 07 07",
            "(+225) 07 07 07 07 07",
            "  07 07 07 07 07  ",
        ] {
            assert_eq!(parse(raw, ci()).as_deref(), Ok("+2250707070707"), "{raw}");
        }
        for raw in [
            "77 123 45 67",
            "771234567",
            "+221 77 123 45 67",
            "00221771234567",
        ] {
            assert_eq!(parse(raw, sn()).as_deref(), Ok("+221771234567"), "{raw}");
        }
    }

    #[test]
    fn an_international_number_is_read_whatever_the_country() {
        assert_eq!(
            parse("+221 77 123 45 67", ci()).as_deref(),
            Ok("+221771234567")
        );
        assert_eq!(
            parse("00221 77 123 45 67", None).as_deref(),
            Ok("+221771234567")
        );
        assert_eq!(
            parse("+33 6 12 34 56 78", None).as_deref(),
            Ok("+33612345678")
        );
    }

    #[test]
    fn a_national_number_needs_a_country() {
        assert_eq!(parse("07 07 07 07 07", None), Err(PhoneError::NoCountry));
    }

    #[test]
    fn impossible_numbers_are_refused() {
        for raw in [
            "",
            "   ",
            // Côte d'Ivoire's old eight-digit form, a digit short, a digit long.
            "07 07 07 07",
            "07 07 07 07 0",
            "07 07 07 07 07 0",
            "+22507",
            "call me",
            "07 07 07 07 07 ext 2",
            "+225 07 07 07 07 07 +",
            "++2250707070707",
            &"7".repeat(40),
        ] {
            assert_eq!(parse(raw, ci()), Err(PhoneError::Impossible), "{raw:?}");
        }
        // A Senegalese mobile number is not one of Côte d'Ivoire.
        assert_eq!(parse("77 123 45 67", ci()), Err(PhoneError::Impossible));
    }

    #[test]
    fn numbers_are_shown_grouped() {
        assert_eq!(grouped("+2250707070707"), "+225 07 07 07 07 07");
        assert_eq!(grouped("+221771234567"), "+221 77 123 45 67");
        assert_eq!(grouped("not a number"), "not a number");
    }

    #[test]
    fn a_prefix_names_its_network_where_the_plan_gives_one() {
        assert_eq!(network("+2250707070707"), Some(Provider::Orange));
        assert_eq!(network("+2250505050505"), Some(Provider::Mtn));
        assert_eq!(network("+2250101010101"), Some(Provider::Moov));
        assert_eq!(network("+221771234567"), Some(Provider::Orange));
        assert_eq!(network("+221781234567"), Some(Provider::Orange));
        assert_eq!(network("+221761234567"), None);
        assert_eq!(network("+33612345678"), None);
        assert_eq!(prefixes_of(Provider::Orange), Some("+22507 +22177 +22178"));
        assert_eq!(prefixes_of(Provider::Card), None);
    }

    #[test]
    fn countries_come_from_codes_and_mtn_environments() {
        assert_eq!(Country::from_code("ci"), ci());
        assert_eq!(Country::from_code("ZZ"), None);
        assert_eq!(Country::of_mtn_environment("mtnivorycoast"), ci());
        assert_eq!(Country::of_mtn_environment("sandbox"), None);
        assert_eq!(ci().and_then(Country::calling_code), Some(225));
        assert_eq!(sn().and_then(Country::calling_code), Some(221));
    }
}
