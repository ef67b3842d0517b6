//! No lost deals (issue #13 §3). A form sent after its session ended by
//! itself (idle, or too old) is not lost: when the form's CSRF token was
//! that session's own, what was typed (never a password) is kept on the
//! server for the session's person (`models::kept_forms`), the signed cookie
//! names it by a random handle, and sign-in leads back to the form's page,
//! which shows it again, once, to that same person, ready to send. The
//! sign-in page says why the session ended.

use std::time::Duration;

use actix_session::Session;
use actix_web::{
    dev::{Payload, ServiceRequest},
    web::Bytes,
};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    app::AppState,
    auth::{SignedIn, csrf, random_token, sha256},
    config::Config,
    db::Acting,
    models::{self, kept_forms::Fields, sessions::Ended},
    web::{AppError, Flash},
};

/// The forms kept: where each is sent, and the page it comes back on
/// (`{id}` is a number).
const FORMS: &[(&str, &str)] = &[
    ("/vehicles", "/vehicles/new"),
    ("/vehicles/{id}", "/vehicles/{id}/edit"),
    ("/vehicles/{id}/sell", "/vehicles/{id}/sell"),
    ("/admin/users", "/admin/users/new"),
    ("/admin/users/{id}", "/admin/users/{id}/edit"),
];

/// The largest form kept: every kept form is far smaller (a vehicle's notes,
/// the longest field, are at most a few thousand characters).
const MAX_KEPT_BYTES: usize = 64 * 1024;

/// Cookie key naming a kept form (`KeptRef`).
const KEY: &str = "kept";

/// What the signed cookie holds of a kept form: its handle (the database
/// has only its hash), the page it comes back on, and whose it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeptRef {
    handle: String,
    page: String,
    user: i64,
}

/// The page of the form sent to `action`, if it is one that is kept.
pub fn form_page(action: &str) -> Option<String> {
    let sent: Vec<&str> = action.split('/').collect();
    FORMS.iter().find_map(|(pattern, page)| {
        let want: Vec<&str> = pattern.split('/').collect();
        let mut id = None;
        let matches = want.len() == sent.len()
            && want.iter().zip(&sent).all(|(w, s)| match *w {
                "{id}" => {
                    let number =
                        !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
                    id = Some(*s);
                    number
                }
                w => w == *s,
            });
        matches.then(|| page.replace("{id}", id.unwrap_or_default()))
    })
}

/// Whether a field is kept: never the form's token, never a password.
fn keeps_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name != csrf::FIELD && !name.contains("password")
}

/// A request came with the cookie of a session that is no longer live
/// (`token`, its token). Tells the sign-in page why (a flash message), and
/// for a kept form sent with that session's own CSRF token after the
/// session ended by itself, keeps what was typed. Returns the form's page
/// when it was kept: sign-in leads back there.
pub async fn session_ended(
    req: &mut ServiceRequest,
    state: &AppState,
    session: &Session,
    token: &str,
    unsafe_method: bool,
) -> Result<Option<String>, AppError> {
    let cfg = &state.config;
    let mut conn = state.db(Acting::ANON).await?;
    let ended = models::sessions::why_ended(
        &mut conn,
        &sha256(token.as_bytes()),
        cfg.idle_timeout,
        cfg.session_lifetime,
    )
    .await?;
    let Some(ended) = ended else {
        return Ok(None);
    };
    let kept = match ended {
        Ended::Idle | Ended::TooOld if unsafe_method => {
            // Not kept is the answer of old: the message still says why.
            keep(req, state, &mut conn, session, token)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not keep a form sent after its session ended");
                    None
                })
        }
        _ => None,
    };
    Flash::info(message(ended, cfg, kept.is_some())).set(session);
    Ok(kept)
}

async fn keep(
    req: &mut ServiceRequest,
    state: &AppState,
    conn: &mut AsyncPgConnection,
    session: &Session,
    token: &str,
) -> Result<Option<String>, AppError> {
    let Some(page) = form_page(req.path()) else {
        return Ok(None);
    };
    // A form another site made the browser send carries no token of this
    // session: nothing it typed is planted in anyone's form.
    let expected = csrf::derive(token);
    let public = state.config.public_origin.as_ref();
    if csrf::check(req, Some(&expected), public).await != csrf::Verdict::Valid {
        return Ok(None);
    }
    // The check read the body (within the form limits and the body
    // deadline) and put it back; read it again, and put it back again.
    let Ok(body) = req.extract::<Bytes>().await else {
        return Ok(None);
    };
    req.set_payload(Payload::from(body.clone()));
    if body.len() > MAX_KEPT_BYTES {
        return Ok(None);
    }
    let Ok(pairs) = serde_urlencoded::from_bytes::<Fields>(&body) else {
        return Ok(None);
    };
    let fields: Fields = pairs.into_iter().filter(|(k, _)| keeps_field(k)).collect();
    let handle = random_token();
    let Some(user) =
        models::kept_forms::keep(conn, token, &sha256(handle.as_bytes()), &page, &fields).await?
    else {
        return Ok(None);
    };
    tracing::info!(user_id = user, %page, "form kept after the session ended");
    let kept = KeptRef {
        handle,
        page: page.clone(),
        user,
    };
    if let Err(e) = session.insert(KEY, kept) {
        tracing::warn!(error = %e, "could not name the kept form in the cookie");
        return Ok(None);
    }
    Ok(Some(page))
}

/// What the sign-in page says.
fn message(ended: Ended, cfg: &Config, kept: bool) -> String {
    let why = match ended {
        Ended::Idle => format!("You were signed out after {} idle.", span(cfg.idle_timeout)),
        Ended::TooOld => format!(
            "You were signed out: a sign-in lasts at most {}.",
            span(cfg.session_lifetime)
        ),
        Ended::Closed => {
            "You were signed out: your session was ended by a password change or by an admin."
                .to_string()
        }
    };
    if kept {
        format!(
            "{why} Nothing was saved, but what you typed is kept: sign in again and your form \
             comes back as you left it."
        )
    } else {
        format!("{why} Please sign in again.")
    }
}

/// "30 minutes", "12 hours", "1 minute".
fn span(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    let (n, unit) = if minutes >= 60 && minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The kept form a new session of `user_id` carries over from the cookie
/// (`session::start` empties it): only that person's.
pub fn carried_over(session: &Session, user_id: i64) -> Option<KeptRef> {
    session
        .get::<KeptRef>(KEY)
        .ok()
        .flatten()
        .filter(|k| k.user == user_id)
}

/// Puts a carried-over kept form back into the new session's cookie.
pub fn carry_on(session: &Session, kept: Option<KeptRef>) {
    if let Some(kept) = kept
        && let Err(e) = session.insert(KEY, kept)
    {
        tracing::warn!(error = %e, "could not carry the kept form over");
    }
}

/// On the form's `page`, signed in: the form kept for this person there, as
/// `T`, if the cookie names one; it is used up. Sets the flash message that
/// says so: call before the page is made.
pub async fn restore<T: DeserializeOwned>(
    session: &Session,
    conn: &mut AsyncPgConnection,
    user: &SignedIn,
    page: &str,
) -> Result<Option<T>, AppError> {
    let Some(kept) = session.get::<KeptRef>(KEY).ok().flatten() else {
        return Ok(None);
    };
    if kept.page != page {
        return Ok(None);
    }
    session.remove(KEY);
    if kept.user != user.id {
        return Ok(None);
    }
    let Some(fields) =
        models::kept_forms::take(conn, &sha256(kept.handle.as_bytes()), page).await?
    else {
        return Ok(None);
    };
    let form = serde_urlencoded::to_string(&fields)
        .ok()
        .and_then(|encoded| serde_urlencoded::from_str::<T>(&encoded).ok());
    if form.is_some() {
        Flash::info(
            "Here is your form as you typed it before you were signed out. Nothing was saved \
             yet: check it and send it.",
        )
        .set(session);
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kept_form_comes_back_on_its_page() {
        assert_eq!(form_page("/vehicles").as_deref(), Some("/vehicles/new"));
        assert_eq!(
            form_page("/vehicles/42").as_deref(),
            Some("/vehicles/42/edit")
        );
        assert_eq!(
            form_page("/vehicles/42/sell").as_deref(),
            Some("/vehicles/42/sell")
        );
        assert_eq!(
            form_page("/admin/users").as_deref(),
            Some("/admin/users/new")
        );
        assert_eq!(
            form_page("/admin/users/7").as_deref(),
            Some("/admin/users/7/edit")
        );
        for other in [
            "/login",
            "/vehicles/42/archive",
            "/vehicles/x",
            "/vehicles/",
            "/vehicles/42/sell/",
            "/admin/users/7/password",
            "/account/password",
            "/vehicles/1234567890123456789",
        ] {
            assert_eq!(form_page(other), None, "{other}");
        }
    }

    #[test]
    fn neither_token_nor_password_is_kept() {
        assert!(keeps_field("sale_price"));
        assert!(!keeps_field("csrf_token"));
        assert!(!keeps_field("password"));
        assert!(!keeps_field("new_Password"));
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_secs(30 * 60)), "30 minutes");
        assert_eq!(span(Duration::from_secs(60)), "1 minute");
        assert_eq!(span(Duration::from_secs(720 * 60)), "12 hours");
        assert_eq!(span(Duration::from_secs(90 * 60)), "90 minutes");
    }
}
