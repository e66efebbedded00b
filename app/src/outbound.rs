//! Requests Pareto's server makes to addresses people type (webhooks, an MLflow tracking
//! server): the address rules of `alerts::webhook::Reach`, checked on every address a name
//! resolves to, by the resolver the connection itself uses, so that a name cannot resolve one way
//! for the check and another for the request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::alerts::webhook::{literal_ip, Reach};

/// Keeps only the addresses a request may go to.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|address| Reach::of(address.ip()).allowed(allow_private))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                (true, Some(first)) => Err(Box::new(Refused(format!(
                    "{host} resolves to {}, which {}",
                    first.ip(),
                    Reach::of(first.ip()).refusal()
                )))
                    as Box<dyn std::error::Error + Send + Sync>),
                (true, None) => Err(Box::new(Refused(format!("{host} does not resolve"))) as _),
            }
        })
    }
}

/// Why a request was not sent to where it points.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A client that keeps the address rules: no redirects (a redirect would go somewhere nobody
/// checked), no proxy, every resolved address checked.
pub fn client(allow_private: bool, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("pareto/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
}

/// Why the address may not be sent to, when its host is written as an IP address.
pub fn refused_literal(url: &str, allow_private: bool) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ip = literal_ip(&parsed)?;
    let reach = Reach::of(ip);
    (!reach.allowed(allow_private)).then(|| format!("{ip} {}", reach.refusal()))
}

/// The refusal inside a request error, if the resolver refused the address.
pub fn refusal_in(error: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        source = cause.source();
    }
    None
}
