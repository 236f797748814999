//! Counting the connections a worker's client opens, so that the report can tell reused
//! connections from new ones (and `--max-requests-per-connection` can see a server's early
//! close) without asking the server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ureq::unversioned::transport::{ConnectionDetails, Connector};

/// A connector chain that counts every connection it produces.
#[derive(Debug)]
pub struct CountingConnector<C> {
    /// The chain that really connects.
    pub inner: C,
    /// Connections produced so far.
    pub opened: Arc<AtomicU64>,
}

impl<C: Connector<()>> Connector<()> for CountingConnector<C> {
    type Out = C::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let out = self.inner.connect(details, chained)?;
        if out.is_some() {
            self.opened.fetch_add(1, Ordering::Relaxed);
        }
        Ok(out)
    }
}
