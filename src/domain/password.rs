//! The password policy of SPEC §5.3: 12 to 128 characters, no composition
//! rules, and nothing a guesser would try early (zxcvbn's estimate, computed
//! here, with its bundled dictionaries: nothing is sent anywhere).

use secrecy::{ExposeSecret as _, SecretString};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// A password that meets the policy. Checking it costs milliseconds of CPU
/// (zxcvbn): call `parse` off the request threads.
#[derive(Debug)]
pub struct NewPassword(SecretString);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    TooGuessable(String),
}

impl PasswordProblem {
    pub fn message(&self) -> String {
        match self {
            Self::TooShort => format!("Use at least {MIN_LEN} characters."),
            Self::TooLong => format!("Use at most {MAX_LEN} characters."),
            Self::TooGuessable(hint) => {
                format!("This password is too easy to guess. {hint}")
            }
        }
    }
}

impl NewPassword {
    /// `context` holds words the password must not lean on (email, names).
    pub fn parse(input: SecretString, context: &[&str]) -> Result<Self, PasswordProblem> {
        let pw = input.expose_secret();
        let len = pw.chars().count();
        // The length check comes first: zxcvbn slows down on long input.
        if len < MIN_LEN {
            return Err(PasswordProblem::TooShort);
        }
        if len > MAX_LEN {
            return Err(PasswordProblem::TooLong);
        }
        let mut words: Vec<&str> = context.iter().copied().filter(|w| !w.is_empty()).collect();
        let parts: Vec<&str> = context
            .iter()
            .flat_map(|w| w.split(['@', '.', ' ', '-', '_']))
            .filter(|w| w.len() >= 3)
            .collect();
        words.extend(parts);
        words.extend(["pcn", "dealer", "dealership", "vehicle", "vehicles"]);
        let estimate = zxcvbn::zxcvbn(pw, &words);
        if (estimate.score() as u8) < 3 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "Try a few unrelated words together.".to_string());
            return Err(PasswordProblem::TooGuessable(hint));
        }
        Ok(Self(input))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str) -> Result<NewPassword, PasswordProblem> {
        NewPassword::parse(
            SecretString::from(pw),
            &["ann.lee@dealer.example", "Ann", "Lee"],
        )
    }

    #[test]
    fn length_bounds() {
        assert_eq!(check("Short1!").unwrap_err(), PasswordProblem::TooShort);
        assert_eq!(
            check(&"x".repeat(129)).unwrap_err(),
            PasswordProblem::TooLong
        );
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        for pw in [
            "password1234",
            "123456789012",
            "qwertyuiopas",
            "annleeannlee",
            "iloveyou2024",
        ] {
            assert!(
                matches!(check(pw), Err(PasswordProblem::TooGuessable(_))),
                "{pw} accepted"
            );
        }
    }

    #[test]
    fn long_unrelated_words_pass_without_composition_rules() {
        assert!(check("correct horse battery staple").is_ok());
        assert!(check("violet-tractor-umbrella").is_ok());
    }
}
