//! The pure domain of caisse: the values a checkout is made of, each parsed once at the edge
//! and valid by construction. Nothing here does I/O, so everything here is unit-tested.

/// A closed set of values the API names by strings: `as_str`, `FromStr` with an error that
/// lists them, and `Display`, JSON and OpenAPI through [`api_string_enum!`].
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(format!("must be one of {}", [$($s),+].join(", "))),
                }
            }
        }

        $crate::api_string_enum!($name, $name::ALL, |v| v.as_str());
    };
}

pub mod address;
pub mod apikey;
pub mod catalog;
pub mod coupon;
pub mod csrf;
pub mod event;
pub mod fields;
pub mod money;
pub mod payment;
pub mod payment_link;
pub mod phone;
pub mod pricing;
pub mod provider;
pub mod provider_account;
pub mod sealed;
pub mod session;
pub mod signature;
pub mod time;

/// Makes a closed set of values (`$all`, each written as `$code` gives it) display as its code,
/// a JSON string in responses and a string enum in the OpenAPI document, from the one list the
/// parser reads.
#[macro_export]
macro_rules! api_string_enum {
    ($ty:ty, $all:expr, $code:expr) => {
        impl $ty {
            /// The value whose code is `s` in any case (`wave`, `WAVE`).
            pub fn from_code_in_any_case(s: &str) -> Option<$ty> {
                let code: fn(&$ty) -> &'static str = $code;
                $all.iter()
                    .copied()
                    .find(|v| code(v).eq_ignore_ascii_case(s))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let code: fn(&$ty) -> &'static str = $code;
                f.write_str(code(self))
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let code: fn(&$ty) -> &'static str = $code;
                s.serialize_str(code(self))
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let code: fn(&$ty) -> &'static str = $code;
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($all.iter().map(code)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

/// Lower-case hex, written in one pass into a string of the right size.
pub fn hex_string(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut out).expect("the buffer is twice the input");
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Constant-time equality of two secrets (of any lengths): each is hashed with HMAC-SHA256 and
/// the tags compared in constant time, so the time taken says nothing of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    use hmac::{Hmac, KeyInit, Mac};
    let tag = |s: &str| {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(b"caisse secret").expect("any key length");
        mac.update(s.as_bytes());
        mac
    };
    tag(a).verify(&tag(b).finalize().into_bytes()).is_ok()
}

/// What an organization owns in one environment and can delete (coupons, products, prices,
/// payment links): the API shows it only to a key of that organization and environment, and
/// not once it is deleted.
pub trait Owned {
    fn owner(&self) -> (uuid::Uuid, session::Environment);
    fn is_deleted(&self) -> bool;
}

macro_rules! owned {
    ($($type:ty),+ $(,)?) => {
        $(impl Owned for $type {
            fn owner(&self) -> (uuid::Uuid, session::Environment) {
                (self.organization_id, self.environment)
            }
            fn is_deleted(&self) -> bool {
                self.deleted_at.is_some()
            }
        })+
    };
}

owned!(
    coupon::Coupon,
    catalog::Product,
    catalog::Price,
    payment_link::PaymentLink,
);
