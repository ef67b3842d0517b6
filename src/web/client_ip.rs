//! The address a request comes from: the peer's, or, when the peer is a
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    resolve(peer, forwarded, trusted).map_or_else(|| "unknown".into(), |ip| ip.to_string())
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
}
