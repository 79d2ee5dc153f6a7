-- What a provider's adapter keeps from a payment's start to reach it again, in the adapter's
-- own format: Orange answers a webpayment with a pay_token (needed to read its status) and a
-- notif_token (its notifications' only proof, kept as a digest). Null for providers that need
-- nothing beyond the payment's id and reference.
ALTER TABLE payments ADD COLUMN provider_data TEXT;
