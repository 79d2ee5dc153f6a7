//! QR codes shown on the checkout page.
//!
//! A session's `qr_code_data` either carries a ready payload (an EMVCo
//! merchant-presented string or a provider's deep link) or the pieces of a
//! BCEAO PI-SPI account, from which the server builds the EMVCo payload itself.
//! [`payload`] turns the untrusted JSON into typed values and back into the
//! exact string to encode; [`render`] draws that string as SVG or PNG and keeps
//! recent renderings in a bounded cache.
//!
//! Everything here is pure (no I/O), so it can be called from request handlers
//! and tested without a server.

pub mod payload;
pub mod render;

pub use payload::{
    Channel, Country, EmvField, EmvPayload, Link, MAX_AMOUNT, PayloadError, PiSpiAccount,
    PiSpiFields, QrCodeData, QrCodeDataView, Reference, crc16_ccitt_false, parse_emv, require_xof,
};
pub use render::{CacheLimits, QrRenderer, RenderError, fits_in_qr, render_png, render_svg};
