//! `/account/2fa`: setting up a second factor (scan the QR code, confirm a
//! code, keep the ten recovery codes shown this once) and turning it off
//! (with the current password or a current code). Both are audited.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;

use super::minutes;
use crate::{
    app::AppState,
    auth::{
        Viewer,
        second_factor::{self as check, CodeCheck},
        sign_in::{self, PasswordCheck, Throttled},
    },
    domain::{
        FieldErrors,
        second_factor::{RECOVERY_CODES, RecoveryCode, TotpSecret, TypedCode},
    },
    models::{second_factor, users},
    web::{AppError, Flash, Page, client_ip::client_ip, filters, render, see_other},
};

/// The name apps list the account under.
const ISSUER: &str = "PCN";

/// Cookie key holding the recovery codes just made, until the page after
/// confirming shows them (once: reading takes them out). The cookie is
/// signed, not encrypted, so they travel as the page does; they are in it
/// only from the 303 to the next request.
const NEW_CODES_KEY: &str = "new_recovery_codes";

#[derive(Template)]
#[template(path = "two_factor/account.html")]
struct TwoFactorPage {
    page: Page,
    email: String,
    /// Since when it is on; `None` while being set up.
    since: Option<DateTime<Utc>>,
    recovery_left: i64,
    recovery_total: usize,
    /// While being set up: the secret to type in by hand, and as a QR code
    /// (an SVG drawn here, as a `data:` image: the CSP allows no inline
    /// style, and an image runs no script).
    secret: String,
    qr: String,
    /// Recovery codes just made, shown this once.
    new_codes: Vec<String>,
    /// An admin who must have one (`PCN_REQUIRE_ADMIN_2FA`).
    required: bool,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    /// `confirm` (turn on) or `remove` (turn off).
    action: Option<String>,
    code: Option<String>,
    current_password: Option<String>,
}

/// `text` as a QR code: an SVG image in a `data:` address.
fn qr_data_uri(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

fn now_secs() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or_default()
}

/// The page: the factor as it is, or one being set up (begun here when
/// there is none, so every visit until it is confirmed shows the same one).
async fn page(
    user: &Viewer,
    session: &Session,
    state: &AppState,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(state).await?;
    let factor =
        second_factor::begin(&mut conn, user.id, TotpSecret::generate().as_bytes()).await?;
    let since = factor.confirmed_at;
    let recovery_left = match since {
        Some(_) => second_factor::recovery_codes_left(&mut conn, user.id).await?,
        None => 0,
    };
    drop(conn);
    let (secret, qr) = match since {
        Some(_) => (String::new(), String::new()),
        None => {
            let secret = TotpSecret::from_bytes(&factor.secret).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("a stored secret is not 20 bytes"))
            })?;
            (
                secret.base32_grouped(),
                qr_data_uri(&secret.otpauth_uri(ISSUER, &user.email))?,
            )
        }
    };
    let new_codes = match session.get::<Vec<String>>(NEW_CODES_KEY) {
        Ok(Some(codes)) => {
            session.remove(NEW_CODES_KEY);
            codes
        }
        _ => Vec::new(),
    };
    Ok(render(
        status,
        &TwoFactorPage {
            page: Page::new("Two-step sign-in", session, Some(user))
                .section("account")
                .still(),
            email: user.email.clone(),
            since,
            recovery_left,
            recovery_total: RECOVERY_CODES,
            secret,
            qr,
            new_codes,
            required: state.config.require_admin_2fa && user.is_admin(),
            errors,
        },
    ))
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(
        &user,
        &session,
        &state,
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

pub async fn submit(
    user: Viewer,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<TwoFactorForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    match form.action.as_deref() {
        Some("confirm") => confirm(&user, &session, &state, form.code.unwrap_or_default()).await,
        Some("remove") => remove(&user, &req, &session, &state, form).await,
        _ => Err(AppError::BadRequest(
            "The form could not be read. Go back and try again.",
        )),
    }
}

/// Turns the factor being set up on with a first code from the app, and
/// hands out recovery codes.
async fn confirm(
    user: &Viewer,
    session: &Session,
    state: &AppState,
    typed: String,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(state).await?;
    let factor = second_factor::find(&mut conn, user.id).await?;
    drop(conn);
    let mut errors = FieldErrors::default();
    let factor = match factor {
        Some(f) if f.confirmed_at.is_some() => {
            Flash::info("Two-step sign-in is already on.").set(session);
            return Ok(see_other("/account/2fa"));
        }
        Some(f) => f,
        None => {
            errors.add(
                "code",
                "Scan the code on this page first, then type the code your app shows.",
            );
            return page(
                user,
                session,
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await;
        }
    };
    let step = TypedCode::totp(&typed).and_then(|code| {
        TotpSecret::from_bytes(&factor.secret)?.matching_step(
            &code,
            now_secs(),
            factor.last_used_step,
        )
    });
    let codes = RecoveryCode::generate_set();
    let hashes: Vec<Vec<u8>> = codes.iter().map(RecoveryCode::hash).collect();
    let confirmed = match step {
        Some(step) => {
            let mut conn = user.db(state).await?;
            second_factor::confirm(&mut conn, user.id, step, &hashes).await?
        }
        None => false,
    };
    if !confirmed {
        errors.add(
            "code",
            "That is not the code your app shows now. Check that you scanned the code on this \
             page and that your phone's clock is right, then type the newest code.",
        );
        return page(
            user,
            session,
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    }
    tracing::info!(user_id = user.id, "second factor on");
    let shown: Vec<String> = codes.iter().map(RecoveryCode::display).collect();
    session
        .insert(NEW_CODES_KEY, shown)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session cookie: {e}")))?;
    Flash::success(
        "Two-step sign-in is on: from now on you sign in with your password, then a code from your app.",
    )
    .set(session);
    Ok(see_other("/account/2fa"))
}

/// Turns the factor off, once the person proved who they are with their
/// password or a current code (each throttled as at sign-in).
async fn remove(
    user: &Viewer,
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    form: TwoFactorForm,
) -> Result<HttpResponse, AppError> {
    let password = form.current_password.unwrap_or_default();
    let code = form.code.unwrap_or_default();
    let ip = client_ip(req, &state.config.trusted_proxies);
    let mut conn = user.db(state).await?;
    let record = users::find_self(&mut conn).await?;
    let enrolled = second_factor::is_enrolled(&mut conn, user.id).await?;
    drop(conn);
    if !enrolled {
        Flash::info("Two-step sign-in is off already.").set(session);
        return Ok(see_other("/account/2fa"));
    }
    let mut errors = FieldErrors::default();
    // Ok(()): it is them; Err(Some(_)): throttled; Err(None): wrong.
    let (field, proof): (&str, Result<(), Option<Throttled>>) = if !password.is_empty() {
        let check = sign_in::check_password(
            state,
            &record.email,
            &ip,
            SecretString::from(password),
            Some(&record),
        )
        .await?;
        let proof = match check {
            PasswordCheck::Accepted { .. } => Ok(()),
            PasswordCheck::Refused => Err(None),
            PasswordCheck::Throttled(t) => Err(Some(t)),
        };
        ("current_password", proof)
    } else if !code.trim().is_empty() {
        let proof = match check::check_code(state, user.id, &record.email, &ip, &code).await? {
            CodeCheck::Accepted { .. } => Ok(()),
            CodeCheck::Refused => Err(None),
            CodeCheck::Throttled(t) => Err(Some(t)),
        };
        ("code", proof)
    } else {
        errors.add(
            "current_password",
            "Type your password, or a code from your app below.",
        );
        return page(
            user,
            session,
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    };
    match proof {
        Ok(()) => {}
        Err(Some(throttled)) => {
            errors.add(
                field,
                format!(
                    "Too many wrong tries. Try again in {}.",
                    minutes(&throttled)
                ),
            );
            let page = page(user, session, state, StatusCode::TOO_MANY_REQUESTS, errors).await?;
            return Ok(throttled.respond(page));
        }
        Err(None) => {
            errors.add(
                field,
                if field == "code" {
                    "That code is not right: type the 6 digits your app shows now."
                } else {
                    "This is not your current password."
                },
            );
            return page(
                user,
                session,
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await;
        }
    }
    let mut conn = user.db(state).await?;
    second_factor::remove(&mut conn, user.id).await?;
    tracing::info!(user_id = user.id, "second factor off");
    Flash::success("Two-step sign-in is off: you sign in with your password alone.").set(session);
    Ok(see_other("/account/2fa"))
}
