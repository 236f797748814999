//! Name resolution done once, before the start. The HTTP client would otherwise resolve the
//! target for every invocation, and with a timeout in force it does so on a new thread each
//! time; a stress tool must not spend its budget on that. Other hosts (redirect targets) still
//! go through the ordinary resolver.

use std::net::{SocketAddr, ToSocketAddrs};

use http::Uri;
use ureq::config::Config;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::target::Target;

/// Addresses of the target, resolved once and shared by every worker's client.
#[derive(Debug, Clone)]
pub struct PinnedResolver {
    host: String,
    port: u16,
    addrs: Vec<SocketAddr>,
    fallback: std::sync::Arc<DefaultResolver>,
}

impl PinnedResolver {
    /// Resolves the target now. When that fails, every invocation falls back to the ordinary
    /// resolver, so the failure is counted as a connect error of each invocation.
    pub fn new(target: &Target) -> PinnedResolver {
        let addrs = (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map(|a| a.collect())
            .unwrap_or_default();
        PinnedResolver {
            host: target.host.clone(),
            port: target.port,
            addrs,
            fallback: Default::default(),
        }
    }

    fn is_target(&self, uri: &Uri) -> bool {
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let host = uri
            .host()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        port == self.port && host == self.host
    }
}

impl Resolver for PinnedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if self.addrs.is_empty() || !self.is_target(uri) {
            return self.fallback.resolve(uri, config, timeout);
        }
        let mut out = self.empty();
        for a in self.addrs.iter().take(16) {
            out.push(*a);
        }
        Ok(out)
    }
}
