//! The HTTP suite: the real server, a real database, requests over loopback.

mod helpers;
#[path = "../support/mtn.rs"]
mod mtn;
#[path = "../support/orange.rs"]
mod orange;
#[path = "../support/stripe/mod.rs"]
mod stripe;
#[path = "../support/wave.rs"]
mod wave;

mod attempts;
mod catalog;
mod checkout_sessions;
mod concurrent_writes;
mod coupons;
mod fast_paths;
mod hardening;
mod health;
mod hostile_input;
mod idempotency;
mod isolation;
mod lifecycle;
mod mtn_failures;
mod mtn_fake;
mod mtn_payments;
mod mtn_shop;
mod orange_fake;
mod orange_payments;
mod page;
mod page_payment;
mod payment_links;
mod payments;
mod phone_numbers;
mod providers;
mod qr_code_data;
mod qr_codes;
mod receiver;
mod sdk;
mod spellings;
mod stripe_fake;
mod stripe_payments;
mod stripe_recovery;
mod wave_fake;
mod wave_payments;
mod webhooks;
