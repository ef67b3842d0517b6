//! Who is asking: sessions, CSRF, passwords, sign-in throttling, and the
//! extractors through which each handler states the least role it needs.

pub mod csrf;
pub mod extract;
pub mod passwords;
pub mod session;
pub mod sign_in;

pub use extract::{Admin, CsrfChecked, Editor, MaybeSignedIn, Signed, Viewer};
pub use session::{SID_KEY, SignedIn};

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// `next` is only ever a local path: anything else becomes `/vehicles`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 2000
                && !n.starts_with("/login")
                && !n.starts_with("/logout") =>
        {
            n.to_string()
        }
        _ => "/vehicles".to_string(),
    }
}

pub fn login_url(next: &str) -> String {
    let next = safe_next(Some(next));
    if next == "/vehicles" || next == "/" {
        return "/login".into();
    }
    format!(
        "/login?next={}",
        percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_only_local_paths() {
        assert_eq!(safe_next(Some("/vehicles/7?x=1")), "/vehicles/7?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "vehicles",
            "/x\r\nSet-Cookie: a=b",
            "/\t/evil.example",
            "/\u{1}x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/vehicles", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/vehicles");
    }

    #[test]
    fn login_url_encodes_next() {
        assert_eq!(login_url("/account"), "/login?next=%2Faccount");
        assert_eq!(login_url("/vehicles"), "/login");
        assert_eq!(login_url("/"), "/login");
    }
}
