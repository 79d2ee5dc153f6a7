//! Logs, on stderr: one line per request inside a span that carries its request id. Secrets and
//! customers' personal data are never logged: keys are hashed before anything sees them, and
//! request lines carry the path, never the query string or the body.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sqlx_postgres=warn,actix_server=warn"));
    // actix-http logs every request it cannot parse at ERROR ("stream error: request parse
    // error"): any client could fill the error log. The client is answered 400; the log keeps
    // errors for what caisse itself got wrong. `RUST_LOG=actix_http=…` shows them again.
    let filter = if std::env::var("RUST_LOG").is_ok_and(|v| v.contains("actix_http")) {
        filter
    } else {
        filter.add_directive("actix_http::h1=off".parse().expect("a valid directive"))
    };
    // Logs go to stderr; stdout is for what the command itself answers (the first-run banner,
    // a created key or URL), so the two never mix. Colours only on a terminal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = if format == "json" {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests start several servers in one process): keep the first.
    let _ = result;
}
