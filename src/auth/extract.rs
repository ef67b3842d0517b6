//! Extractors that state who may call a handler: `Viewer`, `Editor`, `Admin`
//! (signed in with at least that role), `Upload` for a form with files,
//! `CsrfChecked` for the public forms.
//! Order of checks, as SPEC §4 says: signed out → 303, CSRF → 403, role → 403.

use std::{cell::Cell, future::Ready, marker::PhantomData, ops::Deref};

use actix_multipart::Multipart;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload, http::Method};
use futures_util::future::LocalBoxFuture;

use crate::{
    app::AppState,
    auth::{
        SignedIn,
        csrf::{self, Verdict},
        session::Held,
    },
    db::{PoolRunError, Pooled},
    domain::Role,
    web::{AppError, uploads},
};

pub trait LeastRole {
    const ROLE: Role;
}

pub struct ViewerRole;
pub struct EditorRole;
pub struct AdminRole;

impl LeastRole for ViewerRole {
    const ROLE: Role = Role::Viewer;
}
impl LeastRole for EditorRole {
    const ROLE: Role = Role::Editor;
}
impl LeastRole for AdminRole {
    const ROLE: Role = Role::Admin;
}

/// A signed-in user with at least role `R`.
pub struct Signed<R> {
    pub current: SignedIn,
    role: PhantomData<R>,
    /// The connection the session lookup ran on, already acting for this
    /// person (`auth::session`), until the handler takes it.
    held: Cell<Option<Pooled>>,
}

impl<R> Signed<R> {
    /// A connection to the primary acting for this person: the one the
    /// session lookup used when there is one (no further round trip).
    pub async fn db(&self, state: &AppState) -> Result<Pooled, PoolRunError> {
        match self.held.take() {
            Some(conn) => Ok(conn),
            None => state.db(self.current.acting()).await,
        }
    }

    /// A connection for a read-only page (`AppState::reader`).
    pub async fn reader(&self, state: &AppState) -> Result<Pooled, PoolRunError> {
        if state.replica.is_some() {
            drop(self.held.take());
            return state
                .reader(self.current.acting(), self.current.last_write)
                .await;
        }
        self.db(state).await
    }
}

pub type Viewer = Signed<ViewerRole>;
pub type Editor = Signed<EditorRole>;
pub type Admin = Signed<AdminRole>;

impl<R> Deref for Signed<R> {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.current
    }
}

fn current(req: &HttpRequest) -> Option<SignedIn> {
    req.extensions()
        .get::<Option<SignedIn>>()
        .cloned()
        .flatten()
}

fn is_unsafe(req: &HttpRequest) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
}

fn verdict(req: &HttpRequest) -> Verdict {
    req.extensions()
        .get::<Verdict>()
        .copied()
        .unwrap_or(Verdict::MissingToken)
}

impl<R: LeastRole> FromRequest for Signed<R> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let current = signed_in(req)?;
            if is_unsafe(req) && verdict(req) != Verdict::Valid {
                return Err(AppError::Forbidden(verdict(req).message()));
            }
            admit(req, current)
        })())
    }
}

/// Who is signed in, or the answer "sign in first, then come back".
fn signed_in(req: &HttpRequest) -> Result<SignedIn, AppError> {
    current(req).ok_or_else(|| {
        let next = if is_unsafe(req) {
            req.path().to_string()
        } else {
            req.uri()
                .path_and_query()
                .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string())
        };
        AppError::SignInRequired { next }
    })
}

/// `current`, if their role is at least `R` (the last check of SPEC §4's
/// order), with the connection their session was looked up on.
fn admit<R: LeastRole>(req: &HttpRequest, current: SignedIn) -> Result<Signed<R>, AppError> {
    if !current.role.allows(R::ROLE) {
        return Err(AppError::Forbidden(match R::ROLE {
            Role::Admin => "Only an admin can do this.",
            _ => "Your role lets you look, not change: ask an admin for the editor role.",
        }));
    }
    let held = req.extensions_mut().remove::<Held>().map(|h| h.0);
    Ok(Signed {
        current,
        role: PhantomData,
        held: Cell::new(held),
    })
}

/// A signed-in user with at least role `R` sending files (`web::uploads`).
/// The form's token must be the first field of its body: it is checked
/// before anything else of the body is read, then the role, in SPEC §4's
/// order. A form sent url-encoded, without files, whose token checked out
/// (`auth::session`), has no files to read.
pub struct Upload<R> {
    pub user: Signed<R>,
    pub files: Option<Multipart>,
}

impl<R: LeastRole> FromRequest for Upload<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let current = signed_in(&req)?;
            let files = match verdict(&req) {
                Verdict::Valid => None,
                Verdict::InBody => {
                    let mut form = Multipart::new(req.headers(), payload);
                    let token = first_token(&mut form).await;
                    match csrf::verify(token.as_deref(), Some(&current.csrf)) {
                        Verdict::Valid => Some(form),
                        refused => return Err(AppError::Forbidden(refused.message())),
                    }
                }
                refused => return Err(AppError::Forbidden(refused.message())),
            };
            Ok(Self {
                user: admit(&req, current)?,
                files,
            })
        })
    }
}

/// The value of the body's first field, if that is the form's token (a
/// token is short: anything longer is not one).
async fn first_token(form: &mut Multipart) -> Option<String> {
    let mut field = uploads::next(form).await.ok()??;
    if field.name() != Some(csrf::FIELD) {
        return None;
    }
    match uploads::read(&mut field, 256).await.ok()? {
        uploads::Read::Whole(bytes) => String::from_utf8(bytes).ok(),
        uploads::Read::TooLong(_) => None,
    }
}

/// Whoever is asking, signed in or not (the sign-in page itself).
pub struct MaybeSignedIn(pub Option<SignedIn>);

impl FromRequest for MaybeSignedIn {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(current(req))))
    }
}

/// A public form (sign-in, setup) whose CSRF token checked out.
pub struct CsrfChecked;

impl FromRequest for CsrfChecked {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(require_csrf(req).map(|()| Self))
    }
}

/// For public forms that must answer something else first (`/setup`'s 404).
pub fn require_csrf(req: &HttpRequest) -> Result<(), AppError> {
    match verdict(req) {
        Verdict::Valid => Ok(()),
        v => Err(AppError::Forbidden(v.message())),
    }
}
