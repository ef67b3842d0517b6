//! CSRF defence (SPEC §5.3): a synchronizer token in every form, plus refusing
//! cross-site `Sec-Fetch-Site` and foreign `Origin` on unsafe methods. With
//! `PCN_PUBLIC_URL` set, `Origin` must be exactly its scheme, host and port;
//! without it, the host this request names.
//!
//! Signed in, the token is derived from the session token, so it is bound to
//! that session; before sign-in it is a random value in the signed cookie.

use actix_web::{dev::ServiceRequest, http::header, web::Bytes};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use crate::config::Origin;

pub use crate::web::identity::PRE_SESSION_KEY;
pub const FIELD: &str = "csrf_token";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    CrossSite,
    MissingToken,
    WrongToken,
    /// A `multipart/form-data` body: its token is one of its fields, which
    /// only the handler of a route that takes files reads, first of all
    /// (`auth::extract::Upload`); to everything else it is no token.
    InBody,
}

impl Verdict {
    pub fn message(self) -> &'static str {
        match self {
            Self::Valid => "",
            Self::CrossSite => "This form was sent from another site, so it was refused.",
            Self::MissingToken | Self::WrongToken | Self::InBody => {
                "This form has expired or did not come from PCN. Go back, reload the page and try again."
            }
        }
    }
}

/// The form token of a signed-in session.
pub fn derive(session_token: &str) -> String {
    let digest = crate::token::sha256(format!("pcn-csrf\0{session_token}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Checks origin headers (against `public`, the configured origin, when
/// there is one), then the token in the form body (which is put back for the
/// handler to read). A multipart body is not read here: `InBody`.
pub async fn check(
    req: &mut ServiceRequest,
    expected: Option<&str>,
    public: Option<&Origin>,
) -> Verdict {
    if is_cross_site(req, public) {
        return Verdict::CrossSite;
    }
    if crate::web::uploads::is_multipart(req.headers()) {
        return Verdict::InBody;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Verdict::MissingToken;
    }
    let body = match req.extract::<Bytes>().await {
        Ok(b) => b,
        Err(_) => return Verdict::MissingToken,
    };
    let submitted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
    req.set_payload(actix_web::dev::Payload::from(body));
    verify(submitted.as_deref(), expected)
}

/// Whether the token a form sent is the one expected (in constant time).
pub fn verify(submitted: Option<&str>, expected: Option<&str>) -> Verdict {
    match (submitted, expected) {
        (None, _) | (_, None) => Verdict::MissingToken,
        (Some(got), Some(want))
            if crate::token::unmask(got)
                .is_some_and(|got| bool::from(got.as_bytes().ct_eq(want.as_bytes()))) =>
        {
            Verdict::Valid
        }
        _ => Verdict::WrongToken,
    }
}

fn is_cross_site(req: &ServiceRequest, public: Option<&Origin>) -> bool {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        // Where users reach PCN is known: the host headers (which a proxy,
        // or anyone before it, may set) have nothing to say.
        if let Some(public) = public {
            return Origin::of_header(origin).as_ref() != Some(public);
        }
        // Not configured: compare with the host this request was sent to.
        let host = req.connection_info().host().to_ascii_lowercase();
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .map(str::to_ascii_lowercase);
        return origin_host.as_deref() != Some(host.as_str());
    }
    false
}
