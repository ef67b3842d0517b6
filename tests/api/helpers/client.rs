//! Talking to the app as a browser would: a cookie-keeping client that does
//! not follow redirects, forms with and without their CSRF token, sign-in,
//! and reading what came back (`Location`, the session cookie, the token).

use std::time::Duration;

use reqwest::{Response, StatusCode, header};

use super::{Html, TestApp};

/// How long a test client keeps an idle connection for reuse: under the
/// server's keep-alive (actix's 5 s), so it never sends a request on a
/// connection the server is closing at that moment (the request would fail
/// with "connection closed before message completed"; browsers retry such
/// a request by themselves, reqwest does not).
pub const IDLE_REUSE: Duration = Duration::from_secs(3);

/// A new browser: its own cookie jar, redirects not followed.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(IDLE_REUSE)
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    /// POSTs exactly these fields (no token is added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_raw_with(&self.client, path, fields).await
    }

    pub async fn post_raw_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        send_form(client, &self.url(path), fields).await
    }

    /// POSTs with the CSRF token a form page of this client carries.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_with(&self.client, path, fields).await
    }

    pub async fn post_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let token = self.csrf_token_with(client).await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw_with(client, path, &all).await
    }

    /// The token of the sign-in form, or of the account page when signed in.
    pub async fn csrf_token_with(&self, client: &reqwest::Client) -> String {
        let page = self.get_with(client, "/login").await;
        let page = if page.status() == StatusCode::SEE_OTHER {
            self.get_with(client, "/account").await
        } else {
            page
        };
        csrf_from(&page.text().await.unwrap())
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.sign_in_with(&self.client, email, password).await
    }

    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> Response {
        self.post_with(
            client,
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs this app's client in and returns the session cookie it got
    /// (`pcn=…`, see `session_cookie`), to replay by hand.
    pub async fn sign_in_for_cookie(&self, email: &str, password: &str) -> String {
        let resp = self.sign_in(email, password).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        session_cookie(&resp).expect("a session cookie")
    }
}

/// The CSRF token of the first form on the page.
pub fn csrf_from(html: &str) -> String {
    Html::parse(html)
        .first("input[name=csrf_token]")
        .and_then(|input| input.attr("value"))
        .unwrap_or_else(|| panic!("no CSRF token in page:\n{html}"))
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The app's cookie (`pcn=…`, or `__Host-pcn=…` when PCN is reached over
/// https, without its attributes) this response sets.
pub fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("pcn=") || c.starts_with("__Host-pcn="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

/// POSTs `fields` as a urlencoded form to an absolute `url` (for spawned tasks
/// that cannot borrow the app).
pub async fn send_form<K: serde::Serialize, V: serde::Serialize>(
    client: &reqwest::Client,
    url: &str,
    fields: &[(K, V)],
) -> Response {
    client
        .post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .expect("POST")
}

/// The `href` of the first element matching `css` (e.g. `a[rel~=next]`),
/// entities decoded.
pub fn href_of(html: &str, css: &str) -> String {
    Html::parse(html)
        .first(css)
        .and_then(|a| a.attr("href"))
        .unwrap_or_else(|| panic!("no `{css}` with an href in page:\n{html}"))
}

/// Whether `resp` is a Server-Sent Events stream (`GET /events`).
pub fn is_event_stream(resp: &Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The body of `GET url` as `c`, whatever the status.
pub async fn text_at(c: &reqwest::Client, url: &str) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}
