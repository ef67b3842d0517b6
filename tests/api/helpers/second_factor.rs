//! Two-step sign-in as a person does it: an authenticator app (here
//! `totp-rs`, not the app's own code) fed the key the page shows, setting it
//! up through the page, and signing in with a password, then a code.

use reqwest::{Response, StatusCode};

use super::{Html, PASSWORD, TestApp, csrf_from, location};

/// A second factor set up through `/account/2fa`.
pub struct Enrolled {
    /// The key as the page shows it (base32, spaces taken out).
    pub secret: String,
    /// The recovery codes, as shown once.
    pub recovery: Vec<String>,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What an authenticator app with `secret` shows at `unix` seconds.
pub fn code_at(secret: &str, unix: u64) -> String {
    let key = totp_rs::Secret::try_from_base32(secret).expect("a base32 key");
    totp_rs::Builder::new()
        .with_secret(key)
        .build()
        .expect("an RFC 6238 key")
        .generate(unix)
        .to_string()
}

/// The app's code now.
pub fn code_now(secret: &str) -> String {
    code_at(secret, unix_now())
}

/// The code of the next time step: still accepted (one step of drift), and
/// newer than one just used.
pub fn next_code(secret: &str) -> String {
    code_at(secret, unix_now() + 30)
}

impl TestApp {
    /// Sets up two-step sign-in for whoever `c` is signed in as: reads the
    /// key off the page, confirms the app's current code, keeps the
    /// recovery codes the next page shows.
    pub async fn enrol_with(&self, c: &reqwest::Client) -> Enrolled {
        let r = self.get_with(c, "/account/2fa").await;
        assert_eq!(r.status(), StatusCode::OK, "GET /account/2fa");
        let html = r.text().await.unwrap();
        let secret = Html::parse(&html)
            .one("#totp-secret")
            .text()
            .replace(' ', "");
        let token = csrf_from(&html);
        let code = code_now(&secret);
        let r = self
            .post_raw_with(
                c,
                "/account/2fa",
                &[
                    ("csrf_token", &token),
                    ("action", "confirm"),
                    ("code", &code),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "confirming the first code"
        );
        let page = Html::parse(&self.get_with(c, "/account/2fa").await.text().await.unwrap());
        let recovery = page.texts("#recovery-codes li");
        assert_eq!(recovery.len(), 10, "ten recovery codes");
        Enrolled { secret, recovery }
    }

    /// The password step for `email`; asserts it asks for a code next.
    pub async fn password_step(&self, c: &reqwest::Client, email: &str) {
        let r = self.sign_in_with(c, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "password of {email}");
        assert!(
            location(&r).starts_with("/login/code"),
            "after the password: {}",
            location(&r)
        );
    }

    /// The code step with `code`, for a browser past its password step.
    pub async fn code_step(&self, c: &reqwest::Client, code: &str) -> Response {
        self.post_with(c, "/login/code", &[("code", code)]).await
    }
}
