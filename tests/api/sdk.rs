//! lomi's generated Python SDK, unchanged, against the real server: create, retrieve, list,
//! update, delete, and `CheckoutSessions.from_json` on every response (tests/sdk).
//!
//! It needs a Python with the `lomi` package (tests/sdk/requirements.txt); `CAISSE_TEST_PYTHON`
//! names the interpreter. Without it the test says it was skipped, unless
//! `CAISSE_TEST_REQUIRE_SDK=1`, as in CI, where a missing SDK fails.

use crate::helpers::{Backend, spawn_app};

async fn the_lomi_python_sdk_works_unchanged(backend: Backend) {
    let python = std::env::var("CAISSE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_sdk = std::process::Command::new(&python)
        .args(["-c", "import lomi"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_sdk {
        assert!(
            std::env::var("CAISSE_TEST_REQUIRE_SDK").is_err(),
            "CAISSE_TEST_REQUIRE_SDK is set but {python} cannot import lomi"
        );
        eprintln!(
            "skipped: {python} has no `lomi` package (pip install -r tests/sdk/requirements.txt)"
        );
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/lomi_sdk_check.py");
    let base = app.url("/v1");
    let key = app.key.clone();
    let output = tokio::process::Command::new(&python)
        .args([script, "--base-url", &base, "--api-key", &key])
        .output()
        .await
        .expect("run the SDK check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK check failed:\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
}

/// lomi's newer SDK (`lomi-sdk` 1.3.0, `LomiClient`), unchanged: hyphenated paths, with and
/// without `/v1` (tests/sdk/lomi_sdk_client_check.py). It is installed apart from `lomi`, as
/// both are the `lomi` module: `CAISSE_TEST_LOMI_SDK_DIR` names the directory it was installed
/// into (`pip install --target DIR -r tests/sdk/requirements-lomi-sdk.txt`).
async fn lomis_newer_sdk_works_unchanged(backend: Backend) {
    let python = std::env::var("CAISSE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = std::env::var("CAISSE_TEST_LOMI_SDK_DIR").unwrap_or_default();
    let has_sdk = !dir.is_empty()
        && std::process::Command::new(&python)
            .args(["-c", "from lomi import LomiClient"])
            .env("PYTHONPATH", &dir)
            .output()
            .is_ok_and(|o| o.status.success());
    if !has_sdk {
        assert!(
            std::env::var("CAISSE_TEST_REQUIRE_SDK").is_err(),
            "CAISSE_TEST_REQUIRE_SDK is set but {python} cannot import lomi-sdk's LomiClient \
             from CAISSE_TEST_LOMI_SDK_DIR={dir:?}"
        );
        eprintln!(
            "skipped: no lomi-sdk (pip install --target DIR -r \
             tests/sdk/requirements-lomi-sdk.txt, then CAISSE_TEST_LOMI_SDK_DIR=DIR)"
        );
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/lomi_sdk_client_check.py"
    );
    let output = tokio::process::Command::new(&python)
        .args([script, "--server", &app.url(""), "--api-key", &app.key])
        .env("PYTHONPATH", &dir)
        .output()
        .await
        .expect("run the lomi-sdk check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "lomi-sdk check failed:\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
}

crate::on_both_backends!(
    the_lomi_python_sdk_works_unchanged,
    lomis_newer_sdk_works_unchanged
);
