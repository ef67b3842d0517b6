//! Password hashing with argon2id (OWASP parameters: 19 MiB, t=2, p=1), off
//! the request threads and with bounded concurrency, so a sign-in storm
//! cannot stall page views or exhaust memory.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use secrecy::{ExposeSecret as _, SecretString};

use super::blocking::Bounded;
use crate::domain::{NewPassword, PasswordProblem};

fn argon2() -> Argon2<'static> {
    // Constant, valid parameters: `Params::new` cannot fail for them.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password on the calling thread (CLI and tests use this directly).
pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_blocking(password: &SecretString, hash: &str) -> bool {
    argon2()
        .verify_password(password.expose_secret().as_bytes(), hash)
        .is_ok()
}

#[derive(Clone)]
pub struct Passwords {
    work: Bounded,
    /// Checked against when the email is unknown, so both paths cost the same.
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let dummy = hash_blocking(&SecretString::from(crate::token::random_token()))?;
        Ok(Self {
            work: Bounded::new(concurrency),
            dummy_hash: dummy.into(),
        })
    }

    pub async fn hash(&self, password: NewPassword) -> anyhow::Result<String> {
        self.work
            .run(move || hash_blocking(password.secret()))
            .await?
    }

    /// `hash: None` (no such user) verifies against the dummy and says no.
    pub async fn verify(
        &self,
        password: SecretString,
        hash: Option<String>,
    ) -> anyhow::Result<bool> {
        // No hash, or none a password can match (a person who has not
        // chosen one yet): the dummy's check, so every refusal costs the same.
        let hash = hash.filter(|h| h.starts_with("$argon2"));
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .work
            .run(move || verify_blocking(&password, &hash))
            .await?;
        Ok(ok && known)
    }

    /// Applies the password policy (zxcvbn is CPU work too).
    pub async fn check_policy(
        &self,
        password: SecretString,
        context: Vec<String>,
    ) -> anyhow::Result<Result<NewPassword, PasswordProblem>> {
        self.work
            .run(move || {
                let words: Vec<&str> = context.iter().map(String::as_str).collect();
                NewPassword::parse(password, &words)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash_blocking(&SecretString::from("violet tractor umbrella")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking(
            &SecretString::from("violet tractor umbrella"),
            &hash
        ));
        assert!(!verify_blocking(
            &SecretString::from("violet tractor umbrellA"),
            &hash
        ));
        assert!(!verify_blocking(&SecretString::from("x"), "not a hash"));
    }
}
