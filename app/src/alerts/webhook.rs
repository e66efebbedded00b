//! Where a webhook may point. An admin types the address, but Pareto's server sends the request,
//! from inside the network it runs in: an address that names loopback, a private range or the
//! cloud's metadata service (169.254.169.254) would let the alert loop reach what no browser can.
//! Each address the name resolves to is checked when the alert is sent (a name can be made to
//! resolve elsewhere after it was saved); the literal address is checked when it is saved too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{AppError, Validator};

/// What an address is, as far as sending webhooks to it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// On the internet.
    Public,
    /// Loopback, a private or unique-local range, or shared address space: a chat server on the
    /// organization's own network. Allowed only when `PARETO_WEBHOOK_ALLOW_PRIVATE` says so.
    Private,
    /// Link-local (cloud metadata lives there), unspecified, multicast, broadcast or reserved:
    /// never a webhook.
    Never,
}

impl Reach {
    pub fn of(ip: IpAddr) -> Reach {
        match ip {
            IpAddr::V4(v4) => reach_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => reach_v4(v4),
                None => reach_v6(v6),
            },
        }
    }

    /// Whether a webhook may be sent to it, given the admin's setting for private targets.
    pub fn allowed(self, allow_private: bool) -> bool {
        match self {
            Reach::Public => true,
            Reach::Private => allow_private,
            Reach::Never => false,
        }
    }

    /// Why a webhook may not go there, in words.
    pub fn refusal(self) -> &'static str {
        match self {
            Reach::Public => "",
            Reach::Private => {
                "is a loopback or private address; set PARETO_WEBHOOK_ALLOW_PRIVATE=true to send \
                 webhooks inside your network"
            }
            Reach::Never => "is a link-local, multicast or reserved address, never a webhook",
        }
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, ..] = ip.octets();
    if ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
    {
        Reach::Never
    } else if ip.is_loopback() || ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Reach::Private
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    let first = ip.segments()[0];
    if ip.is_unspecified() || ip.is_multicast() || (first & 0xffc0) == 0xfe80 {
        Reach::Never
    } else if ip.is_loopback() || (first & 0xfe00) == 0xfc00 {
        Reach::Private
    } else {
        Reach::Public
    }
}

/// The host of a webhook address as an IP address, when it is written as one.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// A webhook address: http or https with a host, no credentials, and not a literal address
/// that is never a webhook. Private literals are checked when sending, against the setting.
pub fn parse_webhook(name: &str, url: &str) -> Result<(String, String), AppError> {
    let name = name.trim();
    let url = url.trim();
    let parsed = url::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some_and(|h| !h.is_empty())
            && !url.chars().any(char::is_whitespace)
            && url.len() <= 2000
    });
    let mut check = Validator::new();
    check.check(
        !name.is_empty() && name.chars().count() <= 80,
        "name",
        "Name it, e.g. #ml-costs, in at most 80 characters.",
    );
    match &parsed {
        None => {
            check.check(
                false,
                "url",
                "Give the webhook's http:// or https:// address.",
            );
        }
        Some(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            check.check(
                false,
                "url",
                "Leave credentials out of the address; webhooks carry their secret in the path.",
            );
        }
        Some(parsed) => {
            if let Some(ip) = literal_ip(parsed) {
                let reach = Reach::of(ip);
                check.check(
                    reach != Reach::Never,
                    "url",
                    format!("{ip} {}.", reach.refusal()),
                );
            }
        }
    }
    check.finish()?;
    Ok((name.to_owned(), url.to_owned()))
}

/// A webhook address as shown: scheme, host and port. The path and query often hold the secret,
/// and user info is a credential.
pub fn shown_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "…".into();
    };
    let host = match parsed.host() {
        Some(url::Host::Ipv6(v6)) => format!("[{v6}]"),
        Some(host) => host.to_string(),
        None => return "…".into(),
    };
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let more = parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some();
    format!(
        "{}://{host}{port}{}",
        parsed.scheme(),
        if more { "/…" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(ip: &str) -> Reach {
        Reach::of(ip.parse().expect("an address"))
    }

    #[test]
    fn addresses_are_told_apart() {
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert_eq!(reach(public), Reach::Public, "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(reach(private), Reach::Private, "{private}");
        }
        for never in [
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "fe80::1",
            "::",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(reach(never), Reach::Never, "{never}");
        }
        assert!(Reach::Private.allowed(true) && !Reach::Private.allowed(false));
        assert!(!Reach::Never.allowed(true));
    }

    #[test]
    fn webhook_addresses_are_checked_and_shown_without_their_secrets() {
        assert!(parse_webhook("#ml-costs", "https://hooks.example.com/T000/B000/XXXX").is_ok());
        assert!(parse_webhook("#ml-costs", "http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_webhook("", "ftp://x").is_err());
        for refused in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "https://user:secret@hooks.example.com/x",
            "https://",
            "http://hooks.example.com /x",
        ] {
            assert!(parse_webhook("x", refused).is_err(), "{refused}");
        }
        assert_eq!(
            shown_url("https://hooks.example.com/T000/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            shown_url("https://user:pw@hooks.example.com/?token=secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(shown_url("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(shown_url("http://[::1]:9000/x"), "http://[::1]:9000/…");
    }
}
