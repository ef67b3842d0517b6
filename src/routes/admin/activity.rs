//! `/admin/activity`: who is signed in, recent sign-ins and failures, the
//! throttling state, database connections by state and the pool's own state,
//! and the audit trail. The seed's "monitoring concurrent users", in the app.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Double, Nullable, Text, Timestamptz},
};
use diesel_async::RunQueryDsl as _;

use crate::{
    app::AppState,
    auth::Admin,
    models::{attempts, audit},
    web::{AppError, Page, render},
};

#[derive(QueryableByName)]
pub struct OpenSession {
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub last_seen_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_agent: Option<String>,
}

#[derive(QueryableByName)]
pub struct Attempt {
    #[diesel(sql_type = Timestamptz)]
    pub attempted_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub ip: String,
    #[diesel(sql_type = Text)]
    pub outcome: String,
}

#[derive(QueryableByName)]
pub struct Locked {
    #[diesel(sql_type = Text)]
    pub what: String,
    #[diesel(sql_type = BigInt)]
    pub failures: i64,
}

#[derive(QueryableByName)]
pub struct ConnState {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

pub struct Row {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub since: String,
    pub seen: String,
    pub ip: String,
    pub browser: String,
}

#[derive(Template)]
#[template(path = "admin/activity.html")]
struct ActivityPage {
    page: Page,
    sessions: Vec<Row>,
    attempts: Vec<(String, String, String, String)>,
    locked: Vec<Locked>,
    connections: Vec<ConnState>,
    pool_size: u32,
    pool_open: u32,
    pool_idle: u32,
    audit: Vec<(String, String, String, String, String)>,
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
    let pool_state = state.pool.state();
    let mut conn = state.pool.get().await?;
    let sessions: Vec<OpenSession> = diesel::sql_query(
        "SELECT u.id AS user_id, u.first_name || ' ' || u.last_name AS name, u.email, s.created_at, s.last_seen_at, \
                s.ip, s.user_agent \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.revoked_at IS NULL AND u.active AND s.last_seen_at > now() - make_interval(secs => $1) \
           AND s.created_at > now() - make_interval(secs => $2) \
         ORDER BY s.last_seen_at DESC LIMIT 300",
    )
    .bind::<Double, _>(cfg.idle_timeout.as_secs_f64())
    .bind::<Double, _>(cfg.session_lifetime.as_secs_f64())
    .load(&mut conn)
    .await?;
    let recent: Vec<Attempt> = diesel::sql_query(
        "SELECT attempted_at, email, ip, outcome FROM sign_in_attempts ORDER BY attempted_at DESC, id DESC LIMIT 50",
    )
    .load(&mut conn)
    .await?;
    let locked: Vec<Locked> = diesel::sql_query(
        "SELECT 'email ' || email AS what, count(*) AS failures FROM sign_in_attempts \
         WHERE outcome = 'failure' AND attempted_at > now() - make_interval(mins => $1::int) \
         GROUP BY email HAVING count(*) >= $2 \
         UNION ALL \
         SELECT 'address ' || ip, count(*) FROM sign_in_attempts \
         WHERE outcome = 'failure' AND attempted_at > now() - make_interval(mins => $1::int) \
         GROUP BY ip HAVING count(*) >= $3 ORDER BY 2 DESC",
    )
    .bind::<BigInt, _>(attempts::WINDOW_MINUTES)
    .bind::<BigInt, _>(attempts::EMAIL_LIMIT)
    .bind::<BigInt, _>(attempts::ADDRESS_LIMIT)
    .load(&mut conn)
    .await?;
    let connections: Vec<ConnState> = diesel::sql_query(
        "SELECT coalesce(state, 'background') AS state, count(*) AS count FROM pg_stat_activity \
         WHERE datname = current_database() GROUP BY 1 ORDER BY 2 DESC",
    )
    .load(&mut conn)
    .await?;
    let trail = audit::recent(&mut conn, None, 50).await?;
    drop(conn);
    let tz = cfg.timezone;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(render(
        StatusCode::OK,
        &ActivityPage {
            page: Page::new("Activity", &session, Some(&admin)).section("admin"),
            sessions: sessions
                .into_iter()
                .map(|s| Row {
                    user_id: s.user_id,
                    name: s.name,
                    email: s.email,
                    since: fmt(s.created_at),
                    seen: fmt(s.last_seen_at),
                    ip: s.ip.unwrap_or_default(),
                    browser: browser(s.user_agent.as_deref().unwrap_or("")),
                })
                .collect(),
            attempts: recent
                .into_iter()
                .map(|a| (fmt(a.attempted_at), a.email, a.ip, a.outcome))
                .collect(),
            locked,
            connections,
            pool_size: cfg.pool_size,
            pool_open: pool_state.connections,
            pool_idle: pool_state.idle_connections,
            audit: trail
                .into_iter()
                .map(|e| (fmt(e.at), e.actor, e.action, e.target, e.details))
                .collect(),
        },
    ))
}
