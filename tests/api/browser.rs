//! A real headless Chromium, driven over WebDriver, signs in through the form.
//! Without chromedriver the test is skipped, unless PCN_REQUIRE_BROWSER=1
//! (set by CI), where a missing browser is a failure.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{ClientBuilder, Locator};

use crate::helpers::{PASSWORD, TestApp};

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
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

fn start_driver() -> Option<Driver> {
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
        _profile: tempfile::tempdir().unwrap(),
    })
}

async fn browser(driver: &Driver, width: u32, height: u32) -> fantoccini::Client {
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
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn staff_sign_in_through_the_real_form() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    let b = browser(&driver, 1280, 800).await;

    b.goto(&app.url("/account")).await.unwrap();
    // Redirected to the sign-in form, which remembers where we were going.
    assert!(
        b.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("/login?next=%2Faccount")
    );
    b.find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys("rosa@dealer.example")
        .await
        .unwrap();
    b.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("wrong password!")
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = b
        .find(Locator::Css(".flash-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("not right"), "{error}");
    std::fs::write(
        screenshot_dir().join("login-error.png"),
        b.screenshot().await.unwrap(),
    )
    .unwrap();

    b.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert!(
        b.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/account")
    );
    let heading = b
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Your account");
    // The stylesheet loaded under the CSP (the top bar is coloured, not default).
    let bar = b.find(Locator::Css(".topbar")).await.unwrap();
    let bg = bar.css_value("background-color").await.unwrap();
    assert_ne!(bg, "rgba(0, 0, 0, 0)", "stylesheet not applied");
    std::fs::write(
        screenshot_dir().join("account.png"),
        b.screenshot().await.unwrap(),
    )
    .unwrap();

    b.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Css(".flash-info"))
        .await
        .unwrap();
    assert!(b.current_url().await.unwrap().as_str().ends_with("/login"));
    b.close().await.unwrap();

    // A tablet-sized window shows the same form usable.
    let t = browser(&driver, 800, 1100).await;
    t.goto(&app.url("/login")).await.unwrap();
    std::fs::write(
        screenshot_dir().join("login-tablet.png"),
        t.screenshot().await.unwrap(),
    )
    .unwrap();
    t.close().await.unwrap();
}
