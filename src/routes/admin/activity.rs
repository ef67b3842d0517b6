//! `/admin/activity`: who is signed in, recent sign-ins and failures, the
//! throttling state, database connections by state and the pool's own state,
//! and the audit trail. The seed's "monitoring concurrent users", in the app.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::Admin,
    models::{
        attempts::{self, Attempt, Locked},
        audit,
        sessions::{self, OpenSession},
        stats::{self, ConnectionState},
    },
    web::{AppError, Page, filters, render},
};

/// A live session and the browser it runs in.
pub struct SessionRow {
    pub session: OpenSession,
    pub browser: String,
}

/// The pool of this instance (the database's own view is `connections`).
pub struct PoolState {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
}

#[derive(Template)]
#[template(path = "admin/activity.html")]
struct ActivityPage {
    page: Page,
    sessions: Vec<SessionRow>,
    attempts: Vec<Attempt>,
    locked: Vec<Locked>,
    window_minutes: i64,
    connections: Vec<ConnectionState>,
    pool: PoolState,
    audit: Vec<audit::Entry>,
}

impl ActivityPage {
    /// A connection state of `pg_stat_activity`, in words.
    fn state_words(&self, state: &str) -> &'static str {
        match state {
            "active" => "working on a query",
            "idle" => "waiting for work",
            "idle in transaction" => "holding a transaction open",
            "idle in transaction (aborted)" => "holding a failed transaction open",
            _ => "in another state",
        }
    }
}

/// "Firefox on Windows", roughly, from a user agent.
fn browser(ua: &str) -> String {
    let name = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| ua.contains(**b))
        .map_or("Other browser", |b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let os = ["Windows", "Mac OS", "iPad", "iPhone", "Android", "Linux"]
        .iter()
        .find(|o| ua.contains(**o))
        .copied()
        .unwrap_or("");
    if os.is_empty() {
        name.to_string()
    } else {
        format!("{name} on {os}")
    }
}

pub async fn activity(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let cfg = &state.config;
    let pool = state.pool.state();
    let mut conn = admin.db(&state).await?;
    let open = sessions::list_live(&mut conn, cfg.idle_timeout, cfg.session_lifetime, 300).await?;
    let recent = attempts::recent(&mut conn, 50).await?;
    let locked = attempts::locked_now(&mut conn).await?;
    let connections = stats::connections_by_state(&mut conn).await?;
    let trail = audit::recent(&mut conn, None, 50).await?;
    drop(conn);
    Ok(render(
        StatusCode::OK,
        &ActivityPage {
            page: Page::new("Activity", &session, Some(&admin)).section("admin"),
            sessions: open
                .into_iter()
                .map(|s| SessionRow {
                    browser: browser(s.user_agent.as_deref().unwrap_or("")),
                    session: s,
                })
                .collect(),
            attempts: recent,
            locked,
            window_minutes: attempts::WINDOW_MINUTES,
            connections,
            pool: PoolState {
                max: cfg.pool_size,
                open: pool.connections,
                idle: pool.idle_connections,
            },
            audit: trail,
        },
    ))
}
