//! Money: an integer count of a currency's smallest unit, never a float.
//!
//! XOF and XAF have no minor unit (exponent 0: 10 000 F CFA is `10000`); USD and EUR have cents
//! (exponent 2: $12.50 is `1250`).

use std::fmt::Write as _;
use std::str::FromStr;

/// The largest unit price a session may carry, in the smallest unit.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    Xof,
    Xaf,
    Usd,
    Eur,
}

impl Currency {
    pub const ALL: [Currency; 4] = [Currency::Xof, Currency::Xaf, Currency::Usd, Currency::Eur];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Xof => "XOF",
            Currency::Xaf => "XAF",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
        }
    }

    /// Digits after the decimal point in the currency's smallest unit (ISO 4217).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Xof | Currency::Xaf => 0,
            Currency::Usd | Currency::Eur => 2,
        }
    }

    /// The CFA francs, whose customers read French first.
    pub fn is_cfa(self) -> bool {
        matches!(self, Currency::Xof | Currency::Xaf)
    }
}

crate::api_string_enum!(Currency, Currency::ALL, |c| c.code());

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCurrency;

impl FromStr for Currency {
    type Err = UnknownCurrency;

    /// ISO 4217 codes, read case-insensitively and always stored upper case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code_in_any_case(s).ok_or(UnknownCurrency)
    }
}

/// The amounts a session shows, all in the smallest unit of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
}

impl Totals {
    /// Unit price × quantity, less a discount that can never take the total below zero.
    pub fn compute(unit_amount: i64, quantity: i64, discount: i64) -> Totals {
        let subtotal = unit_amount.saturating_mul(quantity);
        let discount = discount.clamp(0, subtotal);
        Totals {
            subtotal,
            discount,
            total: subtotal - discount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_parse_case_insensitively_and_know_their_exponent() {
        assert_eq!("xof".parse(), Ok(Currency::Xof));
        assert_eq!("EUR".parse::<Currency>().unwrap().exponent(), 2);
        assert_eq!(Currency::Xaf.exponent(), 0);
        assert_eq!("GBP".parse::<Currency>(), Err(UnknownCurrency));
        assert_eq!("".parse::<Currency>(), Err(UnknownCurrency));
    }

    #[test]
    fn a_currency_is_at_its_own_place_in_the_list() {
        for (i, c) in Currency::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn the_total_never_goes_below_zero() {
        assert_eq!(
            Totals::compute(5000, 3, 2000),
            Totals {
                subtotal: 15000,
                discount: 2000,
                total: 13000
            }
        );
        assert_eq!(Totals::compute(500, 1, 9999).total, 0);
        assert_eq!(Totals::compute(500, 1, 9999).discount, 500);
        assert_eq!(Totals::compute(500, 2, -5).discount, 0);
    }
}

/// How a language writes money: its separators, and where each currency's symbol goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    /// Between groups of three digits.
    pub group: char,
    /// Before the minor units.
    pub decimal: char,
    /// Each currency's text before and after the figures, in [`Currency`] order.
    pub symbols: [(&'static str, &'static str); 4],
}

impl Locale {
    /// French groups with a narrow no-break space and keeps the symbol on the same line.
    pub const FR: Locale = Locale {
        group: '\u{202f}',
        decimal: ',',
        symbols: [
            ("", "\u{a0}F\u{a0}CFA"),
            ("", "\u{a0}F\u{a0}CFA"),
            ("", "\u{a0}$US"),
            ("", "\u{a0}€"),
        ],
    };
    pub const EN: Locale = Locale {
        group: ',',
        decimal: '.',
        symbols: [
            ("CFA\u{a0}F\u{a0}", ""),
            ("CFA\u{a0}F\u{a0}", ""),
            ("$", ""),
            ("€", ""),
        ],
    };

    fn symbols(&self, currency: Currency) -> (&'static str, &'static str) {
        // A currency's discriminant is its place in `Currency::ALL` (a test checks it).
        self.symbols[currency as usize]
    }
}

/// An amount in the smallest unit, written for people: grouped, with the currency's decimals
/// and symbol where the language puts them (`10 000 F CFA`, `CFA F 10,000`, `12,50 $US`,
/// `$12.50`).
pub fn format(amount: i64, currency: Currency, locale: &Locale) -> String {
    let (group, decimal) = (locale.group, locale.decimal);
    let (prefix, suffix) = locale.symbols(currency);
    // Written into one string, digit by digit: the page formats five amounts on every view.
    let scale = 10_i64.pow(currency.exponent());
    let mut digits = [0u8; 20];
    let mut n = (amount / scale).unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(prefix.len() + len * 2 + suffix.len() + 8);
    out.push_str(prefix);
    if amount < 0 {
        out.push('-');
    }
    for i in (0..len).rev() {
        out.push(char::from(digits[i]));
        if i > 0 && i % 3 == 0 {
            out.push(group);
        }
    }
    if currency.exponent() > 0 {
        let minor = (amount % scale).unsigned_abs();
        out.push(decimal);
        let _ = write!(out, "{minor:0width$}", width = currency.exponent() as usize);
    }
    out.push_str(suffix);
    out
}

/// An amount as a customer types it in the currency's main unit (`5 000`, `5000`, `12,50`,
/// `12.50`, `1,234.50`), in the smallest unit: 500 000 for `5 000` F CFA is never read, since
/// the CFA francs have no decimals. Digits may be grouped by threes with spaces, dots, commas
/// or apostrophes; the last `.` or `,` is the decimal mark when the currency has decimals and
/// at most that many digits follow it. `None` for anything else, or an amount outside 1 to
/// [`MAX_AMOUNT`].
pub fn parse_major(text: &str, currency: Currency) -> Option<i64> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let exponent = currency.exponent() as usize;
    let (whole, fraction) = match text.rfind(['.', ',']) {
        Some(at) if exponent > 0 && (1..=exponent).contains(&(text.len() - at - 1)) => {
            (&text[..at], &text[at + 1..])
        }
        _ => (text.as_str(), ""),
    };
    let mut groups = whole.split(['.', ',', '\'']);
    let first = groups.next()?;
    let rest: Vec<&str> = groups.collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first)
        || (!rest.is_empty() && first.len() > 3)
        || rest.iter().any(|g| g.len() != 3 || !digits(g))
        || (!fraction.is_empty() && !digits(fraction))
    {
        return None;
    }
    let whole: i64 = [first]
        .into_iter()
        .chain(rest)
        .collect::<String>()
        .parse()
        .ok()?;
    let fraction: i64 = format!("{fraction:0<exponent$}").parse().unwrap_or(0);
    let amount = whole
        .checked_mul(10_i64.pow(exponent as u32))?
        .checked_add(fraction)?;
    (1..=MAX_AMOUNT).contains(&amount).then_some(amount)
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_customers_type_them() {
        for (typed, currency, amount) in [
            ("5000", Currency::Xof, Some(5000)),
            ("5 000", Currency::Xof, Some(5000)),
            ("5\u{202f}000", Currency::Xof, Some(5000)),
            ("5.000", Currency::Xof, Some(5000)),
            ("1 250 000", Currency::Xaf, Some(1_250_000)),
            ("12,50", Currency::Usd, Some(1250)),
            ("12.5", Currency::Eur, Some(1250)),
            ("1,234.50", Currency::Usd, Some(123_450)),
            ("12", Currency::Usd, Some(1200)),
            ("5,50", Currency::Xof, None),
            ("50 00", Currency::Xof, Some(5000)),
            ("5,0000", Currency::Xof, None),
            ("12.505", Currency::Usd, Some(1_250_500)),
            ("0", Currency::Xof, None),
            ("-5", Currency::Xof, None),
            ("cinq", Currency::Xof, None),
            ("", Currency::Xof, None),
            ("99999999999999999999", Currency::Xof, None),
        ] {
            assert_eq!(
                parse_major(typed, currency),
                amount,
                "{typed:?} {currency:?}"
            );
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    /// Spaces as a reader sees them, to compare with plain strings.
    fn plain(s: String) -> String {
        s.replace(['\u{202f}', '\u{a0}'], " ")
    }

    #[test]
    fn french_groups_with_spaces_and_puts_the_symbol_after() {
        assert_eq!(
            plain(format(10_000, Currency::Xof, &Locale::FR)),
            "10 000 F CFA"
        );
        assert_eq!(
            plain(format(1_250, Currency::Usd, &Locale::FR)),
            "12,50 $US"
        );
        assert_eq!(
            plain(format(123_456_789, Currency::Eur, &Locale::FR)),
            "1 234 567,89 €"
        );
        assert_eq!(plain(format(999, Currency::Xaf, &Locale::FR)), "999 F CFA");
    }

    #[test]
    fn english_groups_with_commas_and_puts_the_symbol_first() {
        assert_eq!(
            plain(format(10_000, Currency::Xof, &Locale::EN)),
            "CFA F 10,000"
        );
        assert_eq!(format(1_250, Currency::Usd, &Locale::EN), "$12.50");
        assert_eq!(format(5, Currency::Usd, &Locale::EN), "$0.05");
        assert_eq!(
            format(100_000_000, Currency::Eur, &Locale::EN),
            "€1,000,000.00"
        );
        assert_eq!(plain(format(0, Currency::Xof, &Locale::EN)), "CFA F 0");
    }
}
