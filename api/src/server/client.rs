//! Who the client is: the peer's address, or behind trusted proxies the nearest
//! `X-Forwarded-For` hop that is not one of them.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address: the peer's, unless the peer is a trusted proxy. Then it is the
/// nearest address in `X-Forwarded-For` (read from the right, as each proxy appends the
/// address it saw) that is not itself a trusted proxy: whatever a client wrote to the left
/// of that is its own claim and never believed.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        // An address, or one with a port (`203.0.113.7:5123`, `[2001:db8::1]:443`).
        let Some(address) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        else {
            break;
        };
        client = address.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn networks(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_hop_behind_trusted_proxies() {
        let proxies = networks(&["10.0.0.0/8", "127.0.0.1/32"]);
        let cases = [
            // (peer, X-Forwarded-For headers, client)
            ("203.0.113.9", vec!["198.51.100.1"], "203.0.113.9"), // not a proxy: header ignored
            ("127.0.0.1", vec![], "127.0.0.1"),                   // a proxy that said nothing
            ("127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["6.6.6.6, 198.51.100.1"], "198.51.100.1"), // a forged hop on the left
            ("127.0.0.1", vec!["198.51.100.1, 10.1.2.3"], "198.51.100.1"), // two proxies
            ("127.0.0.1", vec!["198.51.100.1", "10.1.2.3"], "198.51.100.1"), // two headers
            ("127.0.0.1", vec!["10.9.9.9, 10.1.2.3"], "10.9.9.9"),        // only proxies: the farthest
            ("127.0.0.1", vec!["198.51.100.1:5123"], "198.51.100.1"),
            ("127.0.0.1", vec!["[2001:db8::7]:443"], "2001:db8::7"),
            ("127.0.0.1", vec!["::ffff:198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["198.51.100.1, unknown"], "127.0.0.1"), // garbage: stop there
            ("::ffff:127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
        ];
        for (peer, headers, client) in cases {
            assert_eq!(
                client_address(ip(peer), &forwarded(&headers), &proxies),
                ip(client),
                "peer {peer}, X-Forwarded-For {headers:?}"
            );
        }
        assert_eq!(
            client_address(ip("127.0.0.1"), &forwarded(&["198.51.100.1"]), &[]),
            ip("127.0.0.1"),
            "no trusted proxies: the header means nothing"
        );
    }
}
