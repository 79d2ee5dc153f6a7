//! Payment providers a session may offer, and the canonical `allowed_providers` string.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// BCEAO's PI-SPI instant payments, paid by scanning a QR code.
    Spi,
    Wave,
    Orange,
    Mtn,
    Moov,
    Card,
}

crate::api_string_enum!(Provider, Provider::ALL, |p| p.code());

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Spi,
        Provider::Wave,
        Provider::Orange,
        Provider::Mtn,
        Provider::Moov,
        Provider::Card,
    ];

    /// What the page must collect from the customer before a payment can start: mobile money
    /// pays from a phone number.
    pub fn needs_phone(self) -> bool {
        matches!(
            self,
            Provider::Wave | Provider::Orange | Provider::Mtn | Provider::Moov
        )
    }

    /// Whether the provider takes payments in `currency`. Wave's Checkout API names XOF only
    /// (`src/adapters/wave.rs`), and so does caisse's Orange Money Web Payment, whose West
    /// African accounts are in XOF (`src/adapters/orange.rs`); MTN MoMo takes the currencies of
    /// its West and Central African markets, XOF and XAF (`src/adapters/mtn.rs`); the others
    /// are not limited here.
    pub fn takes(self, currency: crate::domain::money::Currency) -> bool {
        use crate::domain::money::Currency;
        match self {
            Provider::Wave | Provider::Orange => currency == Currency::Xof,
            // Moov Africa's wallets are in the CFA francs of the countries it serves (XOF in
            // Benin, Togo, Côte d'Ivoire, Burkina Faso, Niger, Mali; XAF in Gabon, Chad).
            Provider::Moov => matches!(currency, Currency::Xof | Currency::Xaf),
            Provider::Mtn => matches!(currency, Currency::Xof | Currency::Xaf),
            _ => true,
        }
    }

    /// How a payment with this provider starts.
    pub fn start(self) -> Start {
        match self {
            Provider::Spi => Start::ScanQrCode,
            Provider::Wave | Provider::Orange | Provider::Mtn | Provider::Moov | Provider::Card => {
                Start::OutsideService
            }
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Provider::Spi => "SPI",
            Provider::Wave => "WAVE",
            Provider::Orange => "ORANGE",
            Provider::Mtn => "MTN",
            Provider::Moov => "MOOV",
            Provider::Card => "CARD",
        }
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::from_code_in_any_case(s).ok_or_else(|| format!("unknown provider code {s:?}"))
    }
}

/// How a payment starts, which decides whether a deployment can take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The payer scans the session's QR code with a bank or wallet app; the payment backend
    /// then reports it through the completion endpoint. Needs nothing but the code.
    ScanQrCode,
    /// The provider's own service takes the payment (a mobile-money push, a card form), through
    /// the merchant's account with it (`src/adapters`); in test, the sandbox stands in for a
    /// provider the merchant has no account with.
    OutsideService,
}

/// A non-empty, duplicate-free list of providers, in the order the merchant gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderList(Vec<Provider>);

impl ProviderList {
    pub fn providers(&self) -> &[Provider] {
        &self.0
    }

    pub fn contains(&self, p: Provider) -> bool {
        self.0.contains(&p)
    }
}

impl FromStr for ProviderList {
    type Err = String;

    /// `" spi, wave ,SPI"` reads as `SPI,WAVE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut list = Vec::new();
        for part in s.split(',').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let p: Provider = part.parse()?;
            if !list.contains(&p) {
                list.push(p);
            }
        }
        if list.is_empty() {
            return Err("must name at least one provider".into());
        }
        Ok(ProviderList(list))
    }
}

impl fmt::Display for ProviderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(p.code())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_lists_are_stored_canonical() {
        let l: ProviderList = " spi, wave ,SPI,card".parse().unwrap();
        assert_eq!(l.to_string(), "SPI,WAVE,CARD");
        assert!(l.contains(Provider::Wave));
        assert!(!l.contains(Provider::Mtn));
    }

    #[test]
    fn only_pi_spi_starts_from_a_qr_code() {
        assert_eq!(Provider::Spi.start(), Start::ScanQrCode);
        for p in [
            Provider::Wave,
            Provider::Orange,
            Provider::Mtn,
            Provider::Moov,
            Provider::Card,
        ] {
            assert_eq!(p.start(), Start::OutsideService, "{p}");
        }
        assert!(
            Provider::Wave.needs_phone()
                && !Provider::Card.needs_phone()
                && !Provider::Spi.needs_phone()
        );
    }

    #[test]
    fn wave_and_orange_money_take_xof_only() {
        use crate::domain::money::Currency;
        for p in [Provider::Wave, Provider::Orange] {
            assert!(p.takes(Currency::Xof), "{p}");
            for c in Currency::ALL.iter().filter(|c| **c != Currency::Xof) {
                assert!(!p.takes(*c), "{p} {c:?}");
            }
        }
    }

    #[test]
    fn mtn_momo_takes_xof_and_xaf_only() {
        use crate::domain::money::Currency;
        assert!(Provider::Mtn.takes(Currency::Xof) && Provider::Mtn.takes(Currency::Xaf));
        assert!(!Provider::Mtn.takes(Currency::Usd) && !Provider::Mtn.takes(Currency::Eur));
    }

    #[test]
    fn unknown_or_empty_provider_lists_are_refused() {
        assert!("SPI,PAYPAL".parse::<ProviderList>().is_err());
        assert!(" , ".parse::<ProviderList>().is_err());
        assert!("".parse::<ProviderList>().is_err());
    }
}
