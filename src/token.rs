//! Random tokens and their hashes: session tokens, setup links, CSRF.
//! Only the hash of a token that grants access is ever stored.

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

/// A token as a page carries it: a fresh random pad, then the token XOR the
/// pad. Every response shows different bytes for the same token, so a
/// compressed page that also reflects what someone typed cannot leak it
/// through its size (BREACH).
pub fn mask(token: &str) -> String {
    let token = token.as_bytes();
    let mut pad = vec![0u8; token.len()];
    rand::rng().fill_bytes(&mut pad);
    let masked: Vec<u8> = token.iter().zip(&pad).map(|(t, p)| t ^ p).collect();
    pad.extend(masked);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pad)
}

/// The token behind a `mask`ed value; `None` for anything else.
pub fn unmask(masked: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(masked)
        .ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    String::from_utf8(pad.iter().zip(masked).map(|(p, m)| p ^ m).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_token_differs_every_time_and_unmasks_to_itself() {
        let token = random_token();
        let (a, b) = (mask(&token), mask(&token));
        assert_ne!(a, b);
        assert_eq!(unmask(&a).as_deref(), Some(token.as_str()));
        assert_eq!(unmask(&b).as_deref(), Some(token.as_str()));
        assert_eq!(unmask(&token), None, "a bare token is not a masked one");
        assert_eq!(unmask(""), None);
        assert_eq!(unmask("%%"), None);
    }
}
