//! A headless Chromium for one test: chromedriver on a free loopback port, a WebDriver client
//! for it, and bounded waits for what the customer would see.
//!
//! Without chromedriver the tests say they were skipped, unless `CAISSE_TEST_REQUIRE_BROWSER=1`,
//! in which case they fail. `CAISSE_TEST_CHROMEDRIVER` and `CAISSE_TEST_CHROMIUM` name other
//! binaries than Debian's.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long any one wait lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);
/// A whole browser test, after which it fails rather than hang.
const TEST_LIMIT: Duration = Duration::from_secs(45);

fn chromedriver() -> PathBuf {
    std::env::var_os("CAISSE_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromedriver".into())
}

fn chromium() -> String {
    std::env::var("CAISSE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// chromedriver and the Chromium it started, killed together (they share a process group) when
/// dropped, and the browser's profile directory removed.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid: it was started as the leader of its own group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts chromedriver and opens a Chromium session on it; `None` (after saying so) when there
/// is no chromedriver and the browser is not required.
async fn start() -> Option<(Driver, Client)> {
    let binary = chromedriver();
    if !binary.exists() {
        if std::env::var("CAISSE_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "CAISSE_TEST_REQUIRE_BROWSER=1 but there is no {}",
                binary.display()
            );
        }
        eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = free_port();
    let profile = std::env::temp_dir().join(format!("caisse-chromium-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&profile).expect("a browser profile directory");
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver")
    };
    let driver = Driver { child, profile };

    // chromedriver listens within a second or so; give it five.
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {address} within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium(),
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=360,800",
                // Phones draw scrollbars over the page; a classic 15 px scrollbar would make
                // a 360 px window a 345 px page.
                "--hide-scrollbars",
                format!("--user-data-dir={}", driver.profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://{address}"))
        .await
        .expect("a Chromium session through chromedriver");
    Some((driver, client))
}

/// Runs `test` against a fresh headless Chromium, then closes the browser whatever happened:
/// a panic in the test is re-raised after the browser is gone, and a test that outlives
/// [`TEST_LIMIT`] fails.
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((driver, client)) = start().await else {
        return;
    };
    let run = tokio::spawn(test(client.clone()));
    let abort = run.abort_handle();
    let outcome = tokio::time::timeout(TEST_LIMIT, run).await;
    abort.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), client.close()).await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(e)) => panic!("the browser test did not finish: {e}"),
        Err(_) => panic!("the browser test took longer than {TEST_LIMIT:?}"),
    }
}

/// Text as the customer reads it: the narrow and non-breaking spaces the page uses inside
/// amounts read as plain spaces, and runs of white space as one.
pub fn plain(s: &str) -> String {
    s.replace(['\u{202F}', '\u{A0}'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The element `css` names, waiting up to [`WAIT`] for it to appear.
pub async fn find(client: &Client, css: &str) -> Element {
    let deadline = Instant::now() + WAIT;
    loop {
        match client.find(Locator::Css(css)).await {
            Ok(e) => return e,
            Err(e) if Instant::now() >= deadline => {
                let url = client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                panic!("no {css:?} on {url} after {WAIT:?}: {e}");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Whether `css` names an element on the page now.
pub async fn present(client: &Client, css: &str) -> bool {
    !client
        .find_all(Locator::Css(css))
        .await
        .expect("query the page")
        .is_empty()
}

/// The visible text of `css`, in [`plain`] form.
pub async fn text(client: &Client, css: &str) -> String {
    plain(
        &find(client, css)
            .await
            .text()
            .await
            .expect("read an element's text"),
    )
}

/// Waits up to [`WAIT`] until the text of `css` is `expected`.
pub async fn wait_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = String::from("nothing (it is not on the page)");
    while Instant::now() < deadline {
        if let Ok(e) = client.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            last = format!("{:?}", plain(&t));
            if plain(&t) == expected {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css:?} reads {last}, not {expected:?}, after {WAIT:?}");
}

/// Waits up to `limit` until the browser's address starts with `prefix`, and returns it.
pub async fn wait_url(client: &Client, prefix: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(url) = client.current_url().await {
            last = url.to_string();
            if last.starts_with(prefix) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser is at {last}, not {prefix}…, after {limit:?}");
}

/// Replaces what `css` holds with `value`, as typing would.
pub async fn type_into(client: &Client, css: &str, value: &str) {
    let field = find(client, css).await;
    field.clear().await.expect("clear a field");
    field.send_keys(value).await.expect("type into a field");
}

pub async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.expect("click");
}

/// Clicks a button that submits a form and waits, up to [`WAIT`], until the browser has left
/// the page it was on: whatever is read next is read from the answer.
pub async fn submit(client: &Client, css: &str) {
    let before = client
        .find(Locator::Css("html"))
        .await
        .expect("the page's root element");
    click(client, css).await;
    let deadline = Instant::now() + WAIT;
    // An element of a page that was left is stale: asking about it fails.
    while before.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking {css:?} loaded no new page within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The current value of the form field `css`.
pub async fn value(client: &Client, css: &str) -> String {
    find(client, css)
        .await
        .prop("value")
        .await
        .expect("read a field")
        .unwrap_or_default()
}

/// Where screenshots go: `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// Resizes the window to `width` and to the page's full height, and saves what it shows as
/// `name.png` under [`screenshot_dir`].
pub async fn screenshot(client: &Client, width: u32, name: &str) -> PathBuf {
    let mut height = 800;
    client
        .set_window_size(width, height)
        .await
        .expect("resize the window");
    // The viewport is a little smaller than the window, and the page's height depends on its
    // width: grow the window until the whole page is in view (three tries are plenty).
    for _ in 0..3 {
        let missing = client
            .execute(
                "return document.documentElement.scrollHeight - window.innerHeight",
                vec![],
            )
            .await
            .expect("measure the page")
            .as_i64()
            .unwrap_or(0);
        if missing <= 0 {
            break;
        }
        height = (i64::from(height) + missing).clamp(400, 6000) as u32;
        client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
    }
    let png = client.screenshot().await.expect("a screenshot");
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("save a screenshot");
    path
}

/// The width of the page's viewport in CSS pixels.
pub async fn viewport_width(client: &Client) -> i64 {
    client
        .execute("return window.innerWidth", vec![])
        .await
        .expect("measure the window")
        .as_i64()
        .unwrap_or(0)
}

/// How far the page is wider than the window (0 when nothing sticks out sideways).
pub async fn horizontal_overflow(client: &Client) -> i64 {
    client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .expect("measure the page")
        .as_i64()
        .unwrap_or(0)
}
