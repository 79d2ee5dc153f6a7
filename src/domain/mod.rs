//! The pure domain of caisse: the values a checkout is made of, each parsed once at the edge
//! and valid by construction. Nothing here does I/O, so everything here is unit-tested.

pub mod apikey;
pub mod coupon;
pub mod event;
pub mod fields;
pub mod money;
pub mod provider;
pub mod session;
pub mod time;
