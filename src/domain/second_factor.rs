//! The second sign-in factor's rules, apart from HTTP and the database:
//! time-based one-time codes (RFC 6238 as authenticator apps do them:
//! HMAC-SHA1, 6 digits, 30-second steps, one step of clock drift either
//! way), what a typed code is, and the single-use recovery codes.

use rand::Rng as _;
use sha2::{Digest as _, Sha256};

/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;
/// Steps of clock drift forgiven either way.
pub const DRIFT_STEPS: i64 = 1;
/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;

const SECRET_BYTES: usize = 20;
const DIGITS: usize = 6;
/// Lower-case letters and digits without look-alikes (no i, l, o, 0, 1).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_LEN: usize = 10;

/// The secret an authenticator app shares with PCN: 160 random bits, as RFC
/// 4226 recommends. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill(&mut bytes);
        Self(bytes)
    }

    /// A stored secret; `None` unless it has the right length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base32 without padding, as apps take it when typed in by hand.
    pub fn base32(&self) -> String {
        totp_rs::Secret::from(self.0).to_base32()
    }

    /// `base32` in groups of four, easier to read off a screen.
    pub fn base32_grouped(&self) -> String {
        let plain = self.base32();
        let groups: Vec<&str> = plain
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        groups.join(" ")
    }

    /// The `otpauth://` address a QR code carries (the Key Uri Format that
    /// authenticator apps read): label `issuer:account`, and the parameters
    /// spelled out although they are the defaults.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        // An email stays readable, as the format's own examples write it.
        const LABEL: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
            .remove(b'.')
            .remove(b'-')
            .remove(b'_')
            .remove(b'~')
            .remove(b'@');
        let issuer = utf8_percent_encode(issuer, LABEL).to_string();
        let account = utf8_percent_encode(account, LABEL);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            self.base32()
        )
    }

    fn totp(&self) -> totp_rs::Totp {
        // Drift is handled by `matching_step`, which needs the step that matched.
        totp_rs::Builder::new()
            .with_secret(self.0)
            .with_skew(0)
            .build_noncompliant()
    }

    /// The code of the step that holds `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp().generate(unix_secs).to_string()
    }

    /// The time step whose code `code` is, if it is the code of a step
    /// within `DRIFT_STEPS` of `now` (Unix seconds) and newer than
    /// `last_used`: a code once accepted, and every older one, is refused.
    pub fn matching_step(&self, code: &TotpCode, now: u64, last_used: i64) -> Option<i64> {
        let totp = self.totp();
        let current = i64::try_from(now / STEP_SECS).ok()?;
        (current - DRIFT_STEPS..=current + DRIFT_STEPS)
            .filter(|step| *step > last_used && *step >= 0)
            // `check` compares in constant time.
            .find(|step| totp.check(&code.0, *step as u64 * STEP_SECS).is_some())
    }
}

/// Six digits, as an authenticator app shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpCode(String);

/// A recovery code, normalised (lower case, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(…)")
    }
}

impl RecoveryCode {
    /// `RECOVERY_CODES` new random codes.
    pub fn generate_set() -> Vec<Self> {
        let mut rng = rand::rng();
        (0..RECOVERY_CODES)
            .map(|_| {
                Self(
                    (0..RECOVERY_LEN)
                        .map(|_| {
                            char::from(
                                RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())],
                            )
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// As shown to people: two groups of five, `abcde-fghjk`.
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(RECOVERY_LEN / 2);
        format!("{a}-{b}")
    }

    /// What is stored: its SHA-256.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

/// What someone typed in the code box: a code from their app, or one of
/// their recovery codes. Spaces and dashes are ignored, letters' case too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypedCode {
    Totp(TotpCode),
    Recovery(RecoveryCode),
}

impl TypedCode {
    /// `None` for anything that is neither.
    pub fn parse(input: &str) -> Option<Self> {
        // Longer than any code with generous spacing: not one.
        if input.len() > 64 {
            return None;
        }
        let bare: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        if bare.len() == DIGITS && bare.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Totp(TotpCode(bare)));
        }
        if bare.len() == RECOVERY_LEN && bare.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            return Some(Self::Recovery(RecoveryCode(bare)));
        }
        None
    }

    /// Only a code from the app (enrolment asks for one).
    pub fn totp(input: &str) -> Option<TotpCode> {
        match Self::parse(input)? {
            Self::Totp(code) => Some(code),
            Self::Recovery(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn codes_are_those_of_rfc_6238() {
        // Appendix B gives 8 digits; ours are the last 6 of them.
        let s = rfc_secret();
        assert_eq!(s.code_at(59), "287082");
        assert_eq!(s.code_at(1_111_111_109), "081804");
        assert_eq!(s.code_at(1_234_567_890), "005924");
        assert_eq!(s.code_at(2_000_000_000), "279037");
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let s = rfc_secret();
        let now = 1_234_567_890;
        let step = (now / STEP_SECS) as i64;
        let code = |at| TypedCode::totp(&s.code_at(at)).unwrap();
        assert_eq!(s.matching_step(&code(now), now, 0), Some(step));
        assert_eq!(s.matching_step(&code(now - 30), now, 0), Some(step - 1));
        assert_eq!(s.matching_step(&code(now + 30), now, 0), Some(step + 1));
        assert_eq!(s.matching_step(&code(now - 60), now, 0), None);
        assert_eq!(s.matching_step(&code(now + 60), now, 0), None);
    }

    #[test]
    fn a_used_step_and_older_ones_are_refused() {
        let s = rfc_secret();
        let now = 1_234_567_890;
        let step = (now / STEP_SECS) as i64;
        let code = TypedCode::totp(&s.code_at(now)).unwrap();
        assert_eq!(s.matching_step(&code, now, step), None);
        assert_eq!(s.matching_step(&code, now, step + 1), None);
        assert_eq!(s.matching_step(&code, now, step - 1), Some(step));
    }

    #[test]
    fn typed_codes_are_read_leniently_and_nothing_else_is_one() {
        assert_eq!(
            TypedCode::parse(" 123 456 "),
            Some(TypedCode::Totp(TotpCode("123456".into())))
        );
        let set = RecoveryCode::generate_set();
        assert_eq!(set.len(), RECOVERY_CODES);
        let shown = set[0].display();
        assert_eq!(shown.len(), RECOVERY_LEN + 1);
        assert_eq!(
            TypedCode::parse(&shown.to_uppercase()),
            Some(TypedCode::Recovery(set[0].clone()))
        );
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "abcdefghio",
            "١٢٣٤٥٦",
            &"1".repeat(100),
        ] {
            assert_eq!(TypedCode::parse(bad), None, "{bad:?}");
        }
        assert_eq!(TypedCode::totp(&shown), None);
    }

    #[test]
    fn recovery_codes_differ_and_hash_to_32_bytes() {
        let set = RecoveryCode::generate_set();
        let distinct: std::collections::BTreeSet<_> =
            set.iter().map(RecoveryCode::display).collect();
        assert_eq!(distinct.len(), set.len());
        assert_eq!(set[0].hash().len(), 32);
    }

    #[test]
    fn the_secret_reads_as_base32_and_in_an_otpauth_address() {
        let s = rfc_secret();
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            s.base32_grouped(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
        assert_eq!(
            s.otpauth_uri("PCN", "ann@dealer.example"),
            "otpauth://totp/PCN:ann@dealer.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=PCN&algorithm=SHA1&digits=6&period=30"
        );
        assert!(
            s.otpauth_uri("A:B & Co", "x y@d.example")
                .starts_with("otpauth://totp/A%3AB%20%26%20Co:x%20y@d.example?"),
            "a colon or space in a name is escaped"
        );
        assert_eq!(format!("{s:?}"), "TotpSecret(…)");
        assert_eq!(TotpSecret::from_bytes(b"short"), None);
    }
}
