//! The address a request comes from: the peer's, or, when the peer is a
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::{HttpRequest, http::header::HeaderMap};
use ipnet::IpNet;

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = (!trusted.is_empty()).then(|| forwarded_for(req.headers()));
    resolve(peer, forwarded.as_deref(), trusted)
        .map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// Every `X-Forwarded-For` line, in order, as one list. A proxy may append a
/// line of its own rather than extend the client's, so the first line alone
/// is whatever the client wrote. A line that is not text becomes a hop that
/// is no address, which stops the walk in `resolve` there.
fn forwarded_for(headers: &HeaderMap) -> String {
    headers
        .get_all("x-forwarded-for")
        .map(|line| line.to_str().unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn resolve(peer: Option<IpAddr>, forwarded: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    // Walk from the right: each hop was added by the proxy before it.
    let mut last = peer;
    for hop in forwarded.unwrap_or("").rsplit(',').map(str::trim) {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        last = ip;
        if !is_trusted(&ip) {
            return Some(ip);
        }
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(Some(ip("203.0.113.9")), Some("1.2.3.4"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_proxy_passes_on_the_nearest_untrusted_hop() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(
                Some(ip("10.0.0.2")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.5"),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            resolve(Some(ip("10.0.0.2")), Some("garbage"), &trusted),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn every_forwarded_for_line_counts_so_the_clients_own_line_is_not_believed() {
        // The client sent the first line; the trusted proxy appended the second.
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.2:4000".parse().unwrap())
            .append_header(("x-forwarded-for", "6.6.6.6"))
            .append_header(("x-forwarded-for", "198.51.100.7, 10.0.0.5"))
            .to_http_request();
        assert_eq!(client_ip(&req, &trusted), "198.51.100.7");
    }
}
