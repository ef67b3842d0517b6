//! Whom the database sees: every pooled connection logs in as `pcn_app`, a
//! role that owns nothing and may do nothing by itself (`NOINHERIT`), and
//! acts for one request at a time as one of the roles below, which hold the
//! grants (migration `2026-11-30-000001_roles`). A viewer's request runs as
//! `pcn_viewer`, so a handler bug that tried to write a vehicle would meet
//! PostgreSQL's "permission denied", not a changed row.
//!
//! Switching costs a round trip, so a connection remembers whom it acts for
//! and switches only when the next request is someone else's. A signed-in
//! request costs none: the session lookup itself switches the connection it
//! ran on (`auth::session`), and the handler goes on with that connection.

use std::ops::{Deref, DerefMut};

use diesel::{QueryResult, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

/// The login role of every connection the running app opens.
pub const APP_LOGIN: &str = "pcn_app";

/// The database roles a request can act as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DbRole {
    /// Signed out: sign-in, setup, invitations; no inventory at all.
    Anon,
    Viewer,
    Editor,
    Admin,
    /// The instance's own housekeeping (change replay, purges, setup token).
    System,
}

impl DbRole {
    pub const ALL: [Self; 5] = [
        Self::Anon,
        Self::Viewer,
        Self::Editor,
        Self::Admin,
        Self::System,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Anon => "pcn_anon",
            Self::Viewer => "pcn_viewer",
            Self::Editor => "pcn_editor",
            Self::Admin => "pcn_admin",
            Self::System => "pcn_system",
        }
    }
}

/// Whom a connection acts for: a role, and the user whose rows it may touch
/// (row-level security reads it as `pcn_user_id()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acting {
    pub role: DbRole,
    pub user: Option<i64>,
}

impl Acting {
    pub const ANON: Self = Self {
        role: DbRole::Anon,
        user: None,
    };
    pub const SYSTEM: Self = Self {
        role: DbRole::System,
        user: None,
    };
}

/// A pooled connection and whom it acts for right now.
pub struct Conn {
    inner: AsyncPgConnection,
    acting: Option<Acting>,
}

impl Conn {
    /// A connection freshly set up to act as `acting` (see `db::set_up`).
    pub(crate) fn new(inner: AsyncPgConnection, acting: Acting) -> Self {
        Self {
            inner,
            acting: Some(acting),
        }
    }

    /// Makes this connection act for `want`; a round trip only when it
    /// acted for someone else.
    pub async fn act_as(&mut self, want: Acting) -> QueryResult<()> {
        if self.acting == Some(want) {
            return Ok(());
        }
        // Unknown until the switch is confirmed: a failed one leaves the
        // connection as it was, which the next switch corrects.
        self.acting = None;
        act_once(&mut self.inner, want).await?;
        self.acting = Some(want);
        Ok(())
    }

    /// Records a switch made by a statement of the caller's own (the session
    /// lookup, which switches in the same round trip).
    pub fn switched_to(&mut self, acting: Option<Acting>) {
        self.acting = acting;
    }

    pub fn acting(&self) -> Option<Acting> {
        self.acting
    }
}

impl Deref for Conn {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        &self.inner
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.inner
    }
}

/// Sets `role` and user for the rest of `conn`'s life, without the cache;
/// for connections outside the pool (the change listener).
pub async fn act_once(conn: &mut AsyncPgConnection, acting: Acting) -> QueryResult<()> {
    diesel::sql_query("SELECT set_config('role', $1, false), set_config('pcn.user_id', $2, false)")
        .bind::<Text, _>(acting.role.name())
        .bind::<Text, _>(acting.user.map(|u| u.to_string()).unwrap_or_default())
        .execute(conn)
        .await
        .map(drop)
}
