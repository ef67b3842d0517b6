//! Who is asking, as the signed cookie and the pages see it: the keys the
//! cookie holds, the signed-in person (resolved by `auth::session`), the
//! signed-out form token, and where to go after signing in.

use actix_session::Session;

use crate::{
    db::{Acting, DbRole},
    domain::Role,
};

/// Cookie key holding the session token.
pub const SID_KEY: &str = "sid";

/// The person signed in on this request, and their session: what handlers
/// (through the role extractors) and the page layout know of them. Their
/// account row with its password hash is `models::users::User`.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub session_id: i64,
    /// Derived from the session token: bound to this session and no other.
    pub csrf: String,
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// The zone this person reads times in (the dealership's): the layout
    /// hands it to the `local_time` filter as `page.tz`.
    pub tz: chrono_tz::Tz,
    /// Where the primary's WAL stood after this session's last write, while
    /// the read replica may not have it yet (`db::replica`).
    pub last_write: Option<u64>,
}

impl SignedIn {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whom this person's requests act as in the database (`db::acting`).
    pub fn acting(&self) -> Acting {
        Acting {
            role: match self.role {
                Role::Viewer => DbRole::Viewer,
                Role::Editor => DbRole::Editor,
                Role::Admin => DbRole::Admin,
            },
            user: Some(self.id),
        }
    }
}

/// Cookie key holding the WAL position of the session's last write.
pub const LAST_WRITE_KEY: &str = "wal";

/// Cookie key holding the pre-sign-in CSRF token.
pub const PRE_SESSION_KEY: &str = "csrf";

/// Cookie key holding a sign-in whose password was right and whose code is
/// awaited (`auth::second_factor`): no session exists before the code.
pub const PENDING_KEY: &str = "pending";

/// The signed-out form token, created on first need.
pub fn ensure_csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(PRE_SESSION_KEY) {
        return t;
    }
    let token = crate::token::random_token();
    if let Err(e) = session.insert(PRE_SESSION_KEY, &token) {
        tracing::warn!(error = %e, "could not store CSRF token");
    }
    token
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
