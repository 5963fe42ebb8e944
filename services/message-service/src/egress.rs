//! Requests to addresses users supply (link previews, push endpoints) reach public unicast
//! addresses only. Every address a host resolves to is checked (IP-literal hosts too), and the
//! connection goes to the address checked, so a user cannot make the server call itself, its
//! network or a cloud metadata endpoint.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Client, Url};

/// Why an address is not called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not `http` or `https`.
    #[error("only http(s) addresses are called")]
    Scheme,
    /// A port other than 80 and 443.
    #[error("only ports 80 and 443 are called")]
    Port,
    /// No host, or one that does not resolve to a public address.
    #[error("the host is not a public address")]
    Address,
}

/// Whether `ip` is a public unicast address: not private, loopback, link-local, CGNAT,
/// multicast, broadcast, unspecified, documentation or reserved; IPv4-mapped and -compatible
/// IPv6 addresses are judged by their IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_public_v4(mapped),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10: carrier-grade NAT.
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24: IETF protocol assignments; 198.18.0.0/15: benchmarking.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        // 240.0.0.0/4: reserved.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let compatible = ip.segments()[..6].iter().all(|segment| *segment == 0);
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // ::a.b.c.d (deprecated IPv4-compatible) and the NAT64 prefix are IPv4 in disguise.
        || compatible
        || ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// Checks a link's scheme and port, and its host when it is an IP literal; a named host is
/// checked address by address when it is resolved ([`PublicResolver`]).
/// `allowed` lists `host:port` pairs fetched whatever their address (tests only).
pub fn check(url: &Url, allowed: &[String]) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme);
    }
    let host = url.host_str().ok_or(Refused::Address)?;
    let port = url.port_or_known_default().ok_or(Refused::Port)?;
    if allowed.iter().any(|pair| *pair == format!("{host}:{port}")) {
        return Ok(());
    }
    if port != 80 && port != 443 {
        return Err(Refused::Port);
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => Err(Refused::Address),
        Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => Err(Refused::Address),
        Some(_) => Ok(()),
        None => Err(Refused::Address),
    }
}

/// Whether a link's host is one the allow-list lets through (so its resolution is not checked).
pub fn is_allowed(url: &Url, allowed: &[String]) -> bool {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => allowed.iter().any(|pair| *pair == format!("{host}:{port}")),
        _ => false,
    }
}

/// Whether a request failed because an address was refused while its host was resolved.
pub fn refused_while_resolving(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<Refused>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Resolves names keeping only public addresses: a name with none fails, so the client never
/// connects to a private one (and DNS cannot change the answer between the check and the
/// connection, as the connection uses these addresses). Allow-listed hosts are IP literals,
/// which are not resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(Refused::Address) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client for user-supplied addresses: public addresses only, no proxy, no redirects
/// followed by itself (each hop must be checked), the given timeouts.
pub fn client(user_agent: &str, connect: Duration, total: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect)
        .timeout(total)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(PublicResolver))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(link: &str) -> Option<Refused> {
        check(&Url::parse(link).unwrap(), &[]).err()
    }

    #[test]
    fn private_loopback_link_local_cgnat_and_mapped_literals_are_refused() {
        for link in [
            "http://127.0.0.1/",
            "http://127.0.0.2/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::7f00:1]/",
        ] {
            assert_eq!(refused(link), Some(Refused::Address), "{link}");
        }
    }

    #[test]
    fn only_web_schemes_and_ports_pass() {
        assert_eq!(refused("ftp://example.com/"), Some(Refused::Scheme));
        assert_eq!(refused("file:///etc/passwd"), Some(Refused::Scheme));
        assert_eq!(refused("http://example.com:8080/"), Some(Refused::Port));
        assert_eq!(refused("https://example.com:22/"), Some(Refused::Port));
        assert_eq!(refused("https://example.com/a"), None);
        assert_eq!(refused("http://93.184.215.14/"), None);
        assert_eq!(
            refused("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/"),
            None
        );
    }

    #[test]
    fn the_test_allow_list_names_exact_host_and_port() {
        let allowed = vec!["127.0.0.1:4567".to_owned()];
        let fixture = Url::parse("http://127.0.0.1:4567/page").unwrap();
        assert_eq!(check(&fixture, &allowed), Ok(()));
        let elsewhere = Url::parse("http://127.0.0.2:4567/page").unwrap();
        // Another address on the same port is neither allowed nor a web port.
        assert_eq!(check(&elsewhere, &allowed), Err(Refused::Port));
        assert!(is_allowed(&fixture, &allowed) && !is_allowed(&elsewhere, &allowed));
    }
}
