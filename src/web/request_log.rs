//! The request log: tracing-actix-web's root span, one per request, built
//! here rather than by its default builder for two reasons. The address is
//! the one PCN itself believes (`client_ip`: `X-Forwarded-For` only from a
//! trusted proxy), not whatever a client wrote in a header. And the target
//! never holds a secret: setup and invitation links carry one-time tokens
//! (`/setup?token=…`, `/invite/{token}`), blanked before the line is written.

use std::borrow::Cow;

use actix_web::{
    Error, HttpMessage as _,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{Uri, Version},
    web,
};
use ipnet::IpNet;
use percent_encoding::percent_decode_str;
use tracing::{Span, field::Empty};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::{app::AppState, web::client_ip::client_ip};

/// What a secret in a logged target is replaced with.
const REDACTED: &str = "[redacted]";

/// The root span builder `startup` gives `TracingLogger`.
pub struct RequestLog;

impl RootSpanBuilder for RequestLog {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map_or(&[][..], |s| s.config.trusted_proxies.as_slice());
        request_span(req, trusted)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Status and error, as the default builder records them.
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The default builder's fields (so log readers find what they know), with
/// our address and a redacted target.
fn request_span(req: &ServiceRequest, trusted: &[IpNet]) -> Span {
    let route: Cow<'static, str> = req
        .match_pattern()
        .map_or(Cow::Borrowed("default"), Cow::Owned);
    let method = req.method().as_str();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let connection = req.connection_info();
    tracing::info_span!(
        "HTTP request",
        http.method = %method,
        http.route = %route,
        http.flavor = %flavor(req.version()),
        http.scheme = %connection.scheme(),
        http.host = %connection.host(),
        http.client_ip = %client_ip(req.request(), trusted),
        http.user_agent = %user_agent,
        http.target = %loggable_target(req.uri()),
        http.status_code = Empty,
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        trace_id = Empty,
        request_id = %request_id,
        exception.message = Empty,
        exception.details = Empty,
    )
}

/// The HTTP version as the default builder writes it (`1.1`).
fn flavor(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2.0",
        Version::HTTP_3 => "3.0",
        _ => "1.1",
    }
}

/// The path and query as logged: every segment after an `invite` segment,
/// the values of `token` and `…_token` parameters, and any other value that
/// carries a token or an invitation (`next=/setup%3Ftoken%3D…`) are blanked.
/// Names are compared decoded, as the app reads them (`%74oken` is `token`).
pub fn loggable_target(uri: &Uri) -> String {
    let mut out = loggable_path(uri.path());
    if let Some(query) = uri.query() {
        out.push('?');
        out.push_str(&loggable_query(query));
    }
    out
}

fn loggable_path(path: &str) -> String {
    let mut secret = false;
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let shown = if secret && !segment.is_empty() {
                REDACTED
            } else {
                segment
            };
            secret = secret || decoded(segment).eq_ignore_ascii_case("invite");
            shown
        })
        .collect();
    segments.join("/")
}

fn loggable_query(query: &str) -> String {
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret(name, value) => {
                Cow::Owned(format!("{name}={REDACTED}"))
            }
            _ => Cow::Borrowed(pair),
        })
        .collect();
    pairs.join("&")
}

fn is_secret(name: &str, value: &str) -> bool {
    let name = decoded(name).to_ascii_lowercase();
    let value = decoded(value).to_ascii_lowercase();
    name == "token"
        || name.ends_with("_token")
        || value.contains("token")
        || value.contains("invite")
}

/// A query or path part as the app reads it (`+` is a space in a query).
fn decoded(part: &str) -> String {
    percent_decode_str(&part.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::test::TestRequest;
    use tracing_subscriber::fmt::{MakeWriter, format::FmtSpan};

    use super::*;

    fn target(uri: &str) -> String {
        loggable_target(&uri.parse().unwrap())
    }

    #[test]
    fn tokens_in_links_are_blanked() {
        assert_eq!(target("/setup?token=s3cret"), "/setup?token=[redacted]");
        assert_eq!(
            target("/setup?a=1&%74oken=s3cret&b=2"),
            "/setup?a=1&%74oken=[redacted]&b=2"
        );
        assert_eq!(target("/x?csrf_token=s3cret"), "/x?csrf_token=[redacted]");
        assert_eq!(target("/invite/s3cret"), "/invite/[redacted]");
        assert_eq!(target("/%69nvite/s3cret/"), "/%69nvite/[redacted]/");
        assert_eq!(
            target("/login?next=%2Fsetup%3Ftoken%3Ds3cret"),
            "/login?next=[redacted]"
        );
        assert_eq!(
            target("/login?next=%2Finvite%2Fs3cret"),
            "/login?next=[redacted]"
        );
        // Everything else is kept as it came.
        assert_eq!(
            target("/vehicles?q=Honda+Civic&status=available"),
            "/vehicles?q=Honda+Civic&status=available"
        );
        assert_eq!(target("/vehicles/7/edit"), "/vehicles/7/edit");
    }

    /// What a subscriber writes for a request's span, as `main`'s does.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    fn logged(req: &ServiceRequest, trusted: &[IpNet]) -> String {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            .finish();
        tracing::subscriber::with_default(subscriber, || drop(request_span(req, trusted)));
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_log_has_pcns_own_address_and_no_token() {
        let req = TestRequest::with_uri("/setup?token=s3cret")
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.66"))
            .to_srv_request();
        // No proxy is trusted: the header is someone's claim, not the address.
        let line = logged(&req, &[]);
        assert!(line.contains("http.client_ip=203.0.113.9"), "{line}");
        assert!(!line.contains("198.51.100.66"), "{line}");
        assert!(
            line.contains("http.target=/setup?token=[redacted]"),
            "{line}"
        );
        assert!(!line.contains("s3cret"), "{line}");
        // Behind a trusted proxy, the address it passes on.
        let req = TestRequest::with_uri("/invite/s3cret")
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.66"))
            .to_srv_request();
        let line = logged(&req, &["10.0.0.0/8".parse().unwrap()]);
        assert!(line.contains("http.client_ip=198.51.100.66"), "{line}");
        assert!(!line.contains("s3cret"), "{line}");
    }
}
