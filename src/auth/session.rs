//! Sessions: the signed cookie carries a random token (and, before sign-in,
//! only a CSRF token); the database holds the session itself, so every
//! instance sees a revocation on the very next request.

use actix_session::{Session, SessionExt as _};
use actix_web::{
    Error, HttpMessage as _, HttpRequest,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web,
};
use diesel_async::AsyncPgConnection;

use crate::{
    app::AppState,
    auth::{SID_KEY, SignedIn, csrf, kept_forms, sha256},
    db::{Acting, Pooled},
    models,
    web::identity::LAST_WRITE_KEY,
    web::{AppError, see_other},
};

/// Middleware: resolves the session (one indexed query; a write at most once
/// a minute), then checks CSRF on unsafe methods.
pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::Internal(anyhow::anyhow!("app state missing"))));
    };
    let session = req.get_session();
    // What a page's script asks by itself (the event stream, the edit
    // form's heartbeat) is not the person doing anything: it must not keep
    // an idle session alive (SPEC §5.3's idle timeout).
    let path = req.path();
    let background = path == "/events" || path.ends_with("/presence");
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut held = None;
    // After a session ended by itself: the form's page, when the form sent
    // was kept (`kept_forms`); sign-in leads back there.
    let mut resume = None;
    let current = match session.get::<String>(SID_KEY) {
        Ok(Some(token)) => {
            let found = match load(&state, &token, last_write(&state, &session), background).await {
                Ok(found) => found,
                Err(e) => return Ok(req.error_response(e)),
            };
            let found = found.map(|(current, conn)| {
                held = Some(conn);
                current
            });
            if found.is_none() {
                // Revoked or expired: forget it, so the next form gets a fresh token.
                session.remove(SID_KEY);
                session.remove(csrf::PRE_SESSION_KEY);
                // Saying why, and keeping the form, are a courtesy: a
                // failure here leaves the plain "sign in".
                match kept_forms::session_ended(&mut req, &state, &session, &token, unsafe_method)
                    .await
                {
                    Ok(page) => resume = page,
                    Err(e) => tracing::warn!(error = %e, "after a session ended"),
                }
            }
            found
        }
        _ => None,
    };
    if unsafe_method {
        let expected = match &current {
            Some(c) => Some(c.csrf.clone()),
            None => session.get::<String>(csrf::PRE_SESSION_KEY).ok().flatten(),
        };
        let public = state.config.public_origin.as_ref();
        let verdict = csrf::check(&mut req, expected.as_deref(), public).await;
        // Signed-in requests are refused here; signed-out ones go on, so a
        // protected route can answer "sign in" first (SPEC §4's order).
        // `/setup` too: someone is signed in, so it is gone, and its handler
        // answers 404 before it asks for the token, as to everyone. And an
        // upload of files: its handler reads the token from the body first.
        let in_body =
            verdict == csrf::Verdict::InBody && crate::web::uploads::takes_files(req.path());
        if current.is_some()
            && verdict != csrf::Verdict::Valid
            && req.path() != "/setup"
            && !in_body
        {
            return Ok(req.error_response(AppError::Forbidden(verdict.message())));
        }
        req.extensions_mut().insert(verdict);
    }
    // PCN_REQUIRE_ADMIN_2FA: an admin without a second factor sets one up
    // before anything else (but may sign out).
    if let Some(c) = &current
        && c.is_admin()
        && state.config.require_admin_2fa
        && !may_skip_second_factor(req.path())
    {
        match has_second_factor(&state, c, held.as_mut()).await {
            Ok(true) => {}
            Ok(false) => return Ok(req.into_response(see_other(ENROL_PATH))),
            Err(e) => return Ok(req.error_response(e)),
        }
    }
    // A page's handler goes on with the connection the lookup left acting
    // for this person. Not while a form's body is still arriving (a slow
    // client must not hold a connection), not for the long-lived event
    // stream, and not for the public pages, whose handlers ask for a
    // signed-out connection of their own (holding this one meanwhile could
    // wait on a full pool).
    if let Some(conn) = held
        && !unsafe_method
        && !background
        && !is_public_page(req.path())
    {
        req.extensions_mut().insert(Held(conn));
    }
    let writer = current.is_some() && unsafe_method && state.replica.is_some();
    req.extensions_mut().insert(current);
    let res = next.call(req).await?.map_into_boxed_body();
    // Back to the pool now if no handler took it.
    drop(res.request().extensions_mut().remove::<Held>());
    if writer && res.status() == actix_web::http::StatusCode::SEE_OTHER {
        remember_write(&state, &session).await;
    }
    // "Please sign in" is an answer, not a failure: hand it on without the
    // error attached, so request logs do not report it as one.
    let sign_in = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .is_some_and(|e| matches!(e, AppError::SignInRequired { .. }));
    if sign_in {
        let (req, resp) = res.into_parts();
        let mut clean = actix_web::HttpResponse::SeeOther().finish();
        let back_to_form = resume
            .map(|page| crate::auth::login_url(&page))
            .and_then(|url| actix_web::http::header::HeaderValue::from_str(&url).ok());
        if let Some(location) = back_to_form.or_else(|| {
            resp.headers()
                .get(actix_web::http::header::LOCATION)
                .cloned()
        }) {
            clean
                .headers_mut()
                .insert(actix_web::http::header::LOCATION, location);
        }
        return Ok(ServiceResponse::new(req, clean));
    }
    Ok(res)
}

/// Where an admin without a second factor is sent when admins must have one.
pub const ENROL_PATH: &str = "/account/2fa";

/// What such an admin may still reach: setting it up, signing out, the
/// stylesheet and script, and the health check.
fn may_skip_second_factor(path: &str) -> bool {
    matches!(path, ENROL_PATH | "/logout" | "/healthz") || path.starts_with("/static/")
}

/// Pages anyone may open, whose handlers use a signed-out connection.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/login" | "/login/code" | "/setup" | "/healthz")
        || path.starts_with("/invite/")
        || path.starts_with("/static/")
}

async fn has_second_factor(
    state: &AppState,
    admin: &SignedIn,
    held: Option<&mut Pooled>,
) -> Result<bool, AppError> {
    let enrolled = match held {
        Some(conn) => models::second_factor::is_enrolled(conn, admin.id).await?,
        None => {
            let mut conn = state.db(admin.acting()).await?;
            models::second_factor::is_enrolled(&mut conn, admin.id).await?
        }
    };
    Ok(enrolled)
}

/// With a read replica: where the primary stood after this session's last
/// write, until the replica has replayed it (then forgotten, so the cookie
/// stops carrying it).
fn last_write(state: &AppState, session: &Session) -> Option<u64> {
    let replica = state.replica.as_ref()?;
    let lsn = session.get::<u64>(LAST_WRITE_KEY).ok().flatten()?;
    // Left in the cookie (the next write replaces it): removing it here
    // could drop a newer position another tab's write set meanwhile.
    (!replica.has_replayed(lsn)).then_some(lsn)
}

/// A write succeeded (its answer is a 303): remember where the primary
/// stands now, so this session's next reads wait for the replica to have it.
/// When the position cannot be read, the session reads from the primary
/// until its next write (a position no replica reaches).
async fn remember_write(state: &AppState, session: &Session) {
    let position = match state.db(Acting::SYSTEM).await {
        Ok(mut conn) => crate::db::replica::current_position(&mut conn).await,
        Err(_) => None,
    };
    let lsn = position.unwrap_or_else(|| {
        tracing::warn!("could not read the primary's WAL position after a write");
        u64::MAX
    });
    if let Err(e) = session.insert(LAST_WRITE_KEY, lsn) {
        tracing::warn!(error = %e, "could not remember the last write");
    }
}

/// The connection a session was looked up on, acting for its user, handed
/// to the handler (`Signed::db`).
pub struct Held(pub Pooled);

async fn load(
    state: &AppState,
    token: &str,
    last_write: Option<u64>,
    background: bool,
) -> Result<Option<(SignedIn, Pooled)>, AppError> {
    let mut conn = state.pool.get_owned().await?;
    let cfg = &state.config;
    let before = conn.acting();
    conn.switched_to(None);
    let Some(live) = models::sessions::find_live(
        &mut conn,
        &sha256(token.as_bytes()),
        cfg.idle_timeout,
        cfg.session_lifetime,
    )
    .await?
    else {
        // Nothing found, nothing switched.
        conn.switched_to(before);
        return Ok(None);
    };
    let current = SignedIn {
        session_id: live.session_id,
        csrf: csrf::derive(token),
        id: live.user_id,
        role: live.role,
        email: live.email,
        first_name: live.first_name,
        last_name: live.last_name,
        tz: state.zone(),
        last_write,
    };
    conn.switched_to(Some(current.acting()));
    if live.seen_long_ago && !background {
        models::sessions::touch(&mut conn, live.session_id).await?;
    }
    Ok(Some((current, conn)))
}

/// Signs `user_id` in: a new session row and a new token in a fresh cookie.
pub async fn start(
    conn: &mut AsyncPgConnection,
    session: &Session,
    req: &HttpRequest,
    state: &AppState,
    user_id: i64,
) -> Result<(), AppError> {
    // A session this browser already had ends: one browser, one session.
    if let Ok(Some(old)) = session.get::<String>(SID_KEY) {
        models::sessions::revoke_by_token(conn, &sha256(old.as_bytes())).await?;
    }
    let token = crate::auth::random_token();
    let ip = crate::web::client_ip::client_ip(req, &state.config.trusted_proxies);
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    models::sessions::create(conn, &sha256(token.as_bytes()), user_id, &ip, user_agent).await?;
    models::users::record_sign_in(conn, user_id).await?;
    let kept = kept_forms::carried_over(session, user_id);
    session.clear();
    session.renew();
    session
        .insert(SID_KEY, token)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session cookie: {e}")))?;
    kept_forms::carry_on(session, kept);
    Ok(())
}

/// Signs the current session out on the server and empties the cookie.
pub async fn end(
    conn: &mut AsyncPgConnection,
    session: &Session,
    current: &SignedIn,
) -> Result<(), AppError> {
    models::sessions::revoke(conn, current.session_id).await?;
    session.clear();
    session.renew();
    Ok(())
}
