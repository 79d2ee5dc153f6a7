use secrecy::ExposeSecret;
use serde_json::json;

use super::*;

fn body(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn wave() -> Map<String, Value> {
    body(json!({"api_key": "wave_sn_prod_abcdefgh1234", "webhook_secret": "wh_secret_5678"}))
}

fn errors(provider: AccountProvider, v: Value) -> Vec<(String, String)> {
    AccountInput::parse(provider, &body(v))
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn every_provider_has_its_row_at_its_place() {
    for (i, p) in AccountProvider::ALL.iter().enumerate() {
        assert_eq!(*p as usize, i, "{p:?}");
        assert_eq!(p.code().parse::<AccountProvider>(), Ok(*p));
        assert_eq!(p.code().to_uppercase().parse::<AccountProvider>(), Ok(*p));
        assert!(!p.fields().is_empty(), "{p:?}");
    }
    assert_eq!(PROVIDERS.len(), AccountProvider::ALL.len());
    assert_eq!(AccountProvider::Stripe.spec().pays_as, Provider::Card);
    assert!("moov".parse::<AccountProvider>().is_err());
}

#[test]
fn wave_credentials_are_read_with_their_default() {
    let input = AccountInput::parse(AccountProvider::Wave, &wave()).unwrap();
    assert!(input.enabled);
    let c = &input.credentials;
    assert_eq!(
        c.get("api_key").unwrap().expose_secret(),
        "wave_sn_prod_abcdefgh1234"
    );
    assert_eq!(c.get("webhook_auth").unwrap().expose_secret(), "signature");
    let mut with = wave();
    with.insert("webhook_auth".into(), json!(" bearer "));
    with.insert("enabled".into(), json!(false));
    let input = AccountInput::parse(AccountProvider::Wave, &with).unwrap();
    assert!(!input.enabled);
    assert_eq!(
        input
            .credentials
            .get("webhook_auth")
            .unwrap()
            .expose_secret(),
        "bearer"
    );
}

#[test]
fn every_fault_is_named_in_one_answer() {
    let found = errors(
        AccountProvider::Wave,
        json!({
            "api_key": "  ",
            "webhook_auth": "hmac",
            "secret_key": "sk_test_1",
            "enabled": "yes",
        }),
    );
    let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "secret_key",
            "enabled",
            "api_key",
            "webhook_secret",
            "webhook_auth"
        ],
        "{found:?}"
    );
    assert!(found[0].1.contains("not a credential of Wave"), "{found:?}");
    assert_eq!(found[3].1, "is required");
    assert_eq!(found[4].1, "must be one of signature, bearer");

    let found = errors(
        AccountProvider::Orange,
        json!({"client_id": 7, "client_secret": "x".repeat(513), "merchant_key": "m",
               "country": "CIV"}),
    );
    let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["client_id", "client_secret", "country"],
        "{found:?}"
    );
    assert!(found[1].1.contains("at most 512"), "{found:?}");
}

#[test]
fn an_optional_field_may_be_left_out_and_a_country_is_upper_case() {
    let spi = AccountInput::parse(
        AccountProvider::Spi,
        &body(
            json!({"client_id": "c", "client_secret": "s", "payee_alias": "a",
                     "webhook_secret": null}),
        ),
    )
    .unwrap();
    assert!(spi.credentials.get("webhook_secret").is_none());
    assert!(!spi.credentials.hints().contains_key("webhook_secret"));
    let orange = AccountInput::parse(
        AccountProvider::Orange,
        &body(
            json!({"client_id": "c", "client_secret": "s", "merchant_key": "m",
                     "country": " ci "}),
        ),
    )
    .unwrap();
    assert_eq!(orange.credentials.hints()["country"], "CI");
}

#[test]
fn hints_show_the_last_characters_of_secrets_and_settings_whole() {
    assert_eq!(hint("wave_sn_prod_abcdefgh1234"), "…1234");
    assert_eq!(hint("abcdefghij"), "…ij");
    assert_eq!(hint("abc"), "…");
    assert_eq!(hint("ééééééééééééxyzé"), "…xyzé");
    let input = AccountInput::parse(AccountProvider::Wave, &wave()).unwrap();
    let hints = input.credentials.hints();
    assert_eq!(hints["api_key"], "…1234");
    assert_eq!(hints["webhook_secret"], "…678");
    assert_eq!(hints["webhook_auth"], "signature");
}

#[test]
fn an_account_opens_with_its_key_only_on_its_own_row() {
    let key = MasterKey::from_bytes([3; 32]);
    let org = Uuid::new_v4();
    let input = AccountInput::parse(AccountProvider::Wave, &wave()).unwrap();
    let account = ProviderAccount::new(org, Environment::Test, &input, &key, Utc::now());
    assert!(
        !account.sealed_credentials.contains("abcdefgh1234"),
        "{account:?}"
    );
    let opened = account.open(&key).unwrap();
    assert_eq!(
        opened.get("api_key").unwrap().expose_secret(),
        "wave_sn_prod_abcdefgh1234"
    );
    assert_eq!(opened.hints(), account.hints);
    assert_eq!(
        account.webhook_path(),
        format!("/providers/wave/{}", account.id)
    );

    let moved = |change: &dyn Fn(&mut ProviderAccount)| {
        let mut other = account.clone();
        change(&mut other);
        other.open(&key).unwrap_err()
    };
    assert_eq!(
        moved(&|a| a.organization_id = Uuid::new_v4()),
        OpenError::Refused
    );
    assert_eq!(
        moved(&|a| a.environment = Environment::Live),
        OpenError::Refused
    );
    assert_eq!(
        moved(&|a| a.provider = AccountProvider::Stripe),
        OpenError::Refused
    );
    assert_eq!(
        account.open(&MasterKey::from_bytes([4; 32])).unwrap_err(),
        OpenError::Refused
    );
}

#[test]
fn credentials_print_nothing_of_their_values() {
    let input = AccountInput::parse(AccountProvider::Wave, &wave()).unwrap();
    let shown = format!("{input:?}");
    assert!(shown.contains("api_key"), "{shown}");
    assert!(
        !shown.contains("abcdefgh") && !shown.contains("wh_secret"),
        "{shown}"
    );
}

#[test]
fn a_credential_is_one_printable_token() {
    for bad in [
        "a\r\nX-Injected: 1",
        "key with space",
        "abc\u{202e}def",
        "clé",
    ] {
        let found = errors(
            AccountProvider::Wave,
            json!({"api_key": bad, "webhook_secret": "wh_secret_5678"}),
        );
        assert_eq!(
            found,
            [(
                "api_key".to_string(),
                "must be printable ASCII without spaces".to_string()
            )],
            "{bad:?}"
        );
    }
    let found = errors(
        AccountProvider::Mtn,
        json!({"subscription_key": "s", "api_user": "u", "api_key": "k",
               "target_environment": "mtn ivory\tcoast"}),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "target_environment");
}
