//! Response headers and what they allow: every kind of response carries the
//! security headers (CSP without unsafe-inline, nosniff, referrer policy),
//! pages have no inline script or style for the CSP to block, static files
//! are fingerprinted and cached for long, a malformed form is a clear 400.

use reqwest::{Response, StatusCode};

use crate::helpers::{Html, TestApp};

fn assert_security_headers(resp: &Response, what: &str) {
    let h = resp.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert!(h.contains_key("referrer-policy"), "{what}");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let page = app.get("/login").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_security_headers(&page, "page");
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&missing, "404");
    assert!(missing.text().await.unwrap().contains("Page not found"));
    let redirect = app.get("/account").await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_security_headers(&redirect, "303");
    let forbidden = app.post_raw("/login", &[]).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_security_headers(&forbidden, "403");
    let wrong_method = app.client.delete(app.url("/login")).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_security_headers(&wrong_method, "wrong method");
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_security_headers(&health, "healthz");
    assert_eq!(health.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    for path in ["/account", "/account/2fa", "/vehicles", "/nope"] {
        let page = Html::parse(&app.get(path).await.text().await.unwrap());
        let inline: Vec<_> = page
            .select("script")
            .into_iter()
            .filter(|s| s.attr("src").is_none())
            .collect();
        assert!(inline.is_empty(), "{path}: inline scripts {inline:?}");
        assert!(!page.has("style"), "{path}: a <style> element");
        assert!(!page.has("[style]"), "{path}: {:?}", page.select("[style]"));
        assert!(
            !page.has("[onclick], [onload], [onsubmit], [onchange], [onerror]"),
            "{path}: inline event handlers"
        );
    }
}

#[tokio::test]
async fn static_files_are_fingerprinted_and_cached_for_long() {
    let app = TestApp::spawn().await;
    let body = app.get("/login").await.text().await.unwrap();
    let href = Html::parse(&body)
        .first("link[rel~=stylesheet][href^='/static/app.']")
        .and_then(|l| l.attr("href"))
        .expect("stylesheet link");
    assert_ne!(
        href, "/static/app.css",
        "the link names a fingerprinted file"
    );
    let css = app.get(&href).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        app.get("/static/app.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_malformed_form_gets_a_clear_400_not_a_parse_error() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let token = app.csrf_token_with(&app.client).await;
    let r = app
        .client
        .post(app.url("/account/password"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&current_password=%ZZ"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let body = r.text().await.unwrap();
    assert!(!body.contains("Parse error"), "{body}");
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_ask_and_tokens_differ_per_page() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let gzip = app
        .client
        .get(app.url("/vehicles?q=anything"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), StatusCode::OK);
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_security_headers(&gzip, "compressed page");
    // Without asking, the page comes plain.
    let plain = app.get("/vehicles?q=anything").await;
    assert!(!plain.headers().contains_key("content-encoding"));
    // The form token is masked afresh on every page (BREACH): two pages of
    // one session never show the same token, and both are accepted.
    let token = |html: &str| {
        Html::parse(html)
            .first("form[action=\"/vehicles\"] input[name=csrf_token]")
            .and_then(|input| input.attr("value"))
    };
    let a = token(&app.get("/vehicles/new").await.text().await.unwrap());
    let b = token(&app.get("/vehicles/new").await.text().await.unwrap());
    assert_ne!(a, b);
    for t in [a, b] {
        // An empty vehicle form: 422 means the token passed, 403 it did not.
        let r = app
            .post_raw("/vehicles", &[("csrf_token", t.unwrap().as_str())])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a masked token is accepted"
        );
    }
}

#[tokio::test]
async fn the_session_cookie_is_sent_only_when_it_changes() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    for path in ["/vehicles", "/vehicles", "/sales", "/account"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            !r.headers().contains_key("set-cookie"),
            "{path} re-sent the session cookie"
        );
    }
    let r = app.post("/logout", &[]).await;
    assert!(
        r.headers().contains_key("set-cookie"),
        "signing out changes it"
    );
}
