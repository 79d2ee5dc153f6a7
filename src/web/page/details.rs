//! The payment form's customer details and provider choice: what is shown in the fields, which
//! provider is preselected, and what the page's script needs to preselect one as the customer
//! types a number.

use std::borrow::Cow;

use crate::core::checkout::PaymentForm;
use crate::domain::phone::{self, Country};
use crate::domain::provider::Provider;
use crate::domain::session::CheckoutSession;
use crate::web::html::Plain;
use crate::web::i18n::{Messages, Text};

pub struct ProviderOption<'a> {
    pub code: Plain<&'static str>,
    pub name: &'a Text,
    pub checked: bool,
    /// The E.164 prefixes of the provider's network, space-separated (`None` for none), for the
    /// script that preselects it from the number typed.
    pub networks: Option<Plain<&'static str>>,
}

pub struct DetailsView<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// As the customer typed it after a refused form; the session's number grouped as its
    /// country writes it (`+225 07 07 07 07 07`) otherwise.
    pub phone: Cow<'a, str>,
    /// The country calling code a number typed without one is read with (`225`), for the
    /// script; `None` when the page knows no country.
    pub calling_code: Option<u16>,
}

/// The details to show: what was typed into a refused form, else what the session holds.
/// `country` is the country a number typed without a country code is read in, as far as the
/// page knows it (the organization's, else the session's QR code's).
pub fn details_view<'a>(
    session: &'a CheckoutSession,
    typed: Option<&'a PaymentForm>,
    country: Option<Country>,
) -> DetailsView<'a> {
    let calling_code = country.and_then(Country::calling_code);
    match typed {
        Some(f) => DetailsView {
            name: &f.customer_name,
            email: &f.customer_email,
            phone: Cow::Borrowed(&f.customer_phone),
            calling_code,
        },
        None => DetailsView {
            name: session.fields.customer_name.as_deref().unwrap_or_default(),
            email: session.fields.customer_email.as_deref().unwrap_or_default(),
            phone: session
                .fields
                .customer_phone
                .as_deref()
                .map_or(Cow::Borrowed(""), |p| Cow::Owned(phone::grouped(p))),
            calling_code,
        },
    }
}

/// The providers offered, with the one to preselect checked: the one chosen before, else the
/// network the customer's number belongs to (the number typed, or the session's), else the
/// only one there is.
pub fn provider_options<'a>(
    t: &'a Messages,
    session: &CheckoutSession,
    offered: &[Provider],
    typed: Option<&PaymentForm>,
    country: Option<Country>,
) -> Vec<ProviderOption<'a>> {
    let previous = session
        .payment_provider
        .as_deref()
        .and_then(|p| p.parse().ok());
    let number = match typed {
        Some(f) => phone::parse(&f.customer_phone, country).ok(),
        None => session.fields.customer_phone.clone(),
    };
    let of_network = number.as_deref().and_then(phone::network);
    let preferred = previous
        .filter(|p| offered.contains(p))
        .or(of_network.filter(|p| offered.contains(p)))
        .or(match offered {
            [only] => Some(*only),
            _ => None,
        });
    offered
        .iter()
        .map(|&p| ProviderOption {
            code: Plain::built(p.code()),
            name: t.provider(p),
            checked: Some(p) == preferred,
            networks: phone::prefixes_of(p).map(Plain::built),
        })
        .collect()
}
