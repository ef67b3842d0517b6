//! The browser harness: chromedriver started on a free port, a headless
//! Chromium per test, and the few WebDriver steps the browser tests repeat.
//! Without chromedriver a test is skipped, unless PCN_REQUIRE_BROWSER=1 (set
//! by CI), where a missing browser is a failure.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{ClientBuilder, Locator};

use super::{PASSWORD, TestApp};

/// A running chromedriver, stopped on drop.
pub struct Driver {
    child: Child,
    port: u16,
    /// A fresh profile folder per browser window (two Chromiums cannot
    /// share one), removed with the driver.
    profiles: std::sync::Mutex<Vec<tempfile::TempDir>>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Starts chromedriver, or `None` (the test is skipped) without it.
pub fn start_driver() -> Option<Driver> {
    let required = std::env::var("PCN_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let driver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let browser = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(driver), Some(_)) = (driver, browser) else {
        assert!(
            !required,
            "PCN_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed"
        );
        eprintln!("SKIPPED: browser test (install chromium and chromium-driver to run it)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Driver {
        child,
        port,
        profiles: Default::default(),
    })
}

/// A new headless Chromium window of this size.
pub async fn open_browser(driver: &Driver, width: u32, height: u32) -> fantoccini::Client {
    let profile = tempfile::tempdir().unwrap();
    let profile_dir = profile.path().display().to_string();
    driver.profiles.lock().unwrap().push(profile);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={profile_dir}"),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

/// Waits until the browser is on a page whose URL contains `part`.
pub async fn wait_for_url(b: &fantoccini::Client, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if b.current_url().await.unwrap().as_str().contains(part) {
            return;
        }
        if Instant::now() > deadline {
            shot(b, "failure.png").await;
            panic!(
                "never reached a URL with {part}; at {} (see failure.png)",
                b.current_url().await.unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Signs in through the form and waits for the inventory.
pub async fn sign_in_browser(b: &fantoccini::Client, app: &TestApp, email: &str) {
    b.goto(&app.url("/login")).await.unwrap();
    fill(b, "#email", email).await;
    fill(b, "#password", PASSWORD).await;
    click(b, "button[type=submit]").await;
    wait_for_url(b, "/vehicles").await;
}

/// Types into the element `css` (waiting for it to appear).
pub async fn fill(b: &fantoccini::Client, css: &str, text: &str) {
    let el = b.wait().for_element(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(b: &fantoccini::Client, css: &str) {
    b.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The text of `css`, once there. Found again when the element went stale
/// between finding and reading it (a page replaced just then, or live.js
/// redrawing it): what a person would read a moment later.
pub async fn text_of(b: &fantoccini::Client, css: &str) -> String {
    text_when(b, css, |_| true).await
}

/// The text of `css` once `ready` holds for it (the page may still be the
/// one before a click, showing an older message in the same place).
pub async fn text_when(b: &fantoccini::Client, css: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(el) = b.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
            && ready(&text)
        {
            return text;
        }
        if Instant::now() > deadline {
            shot(b, "failure.png").await;
            panic!("`{css}` never showed the expected text (see failure.png)");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn shot(b: &fantoccini::Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(name), png).unwrap();
}
