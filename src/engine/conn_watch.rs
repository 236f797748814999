//! Tells, after a failed invocation, whether it went out on a reused keep-alive connection and
//! whether any byte of an answer came back. A server may close an idle connection at any
//! moment; an invocation written into that closing connection was never read by the server,
//! and counting it as an error would blame the target for the client's choice to reuse. Only
//! the transport knows which case happened, so a wrapper of the connector records it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::Error;

/// What the current attempt did on the wire; reset before each attempt.
#[derive(Debug, Default)]
pub struct Watch {
    fresh: AtomicBool,
    connected: AtomicBool,
    answered: AtomicBool,
}

impl Watch {
    /// Forgets the previous attempt.
    pub fn reset(&self) {
        self.fresh.store(false, Ordering::Relaxed);
        self.connected.store(false, Ordering::Relaxed);
        self.answered.store(false, Ordering::Relaxed);
    }

    /// True when the attempt failed while setting up a new connection (TCP or TLS), so the
    /// error is a connect error whatever the I/O layer called it.
    pub fn failed_connecting(&self) -> bool {
        self.fresh.load(Ordering::Relaxed) && !self.connected.load(Ordering::Relaxed)
    }

    /// True when the attempt used a pooled connection and received nothing on it: the case in
    /// which the server cannot have answered, and closed before reading.
    pub fn reused_and_silent(&self) -> bool {
        !self.fresh.load(Ordering::Relaxed) && !self.answered.load(Ordering::Relaxed)
    }
}

/// The workers' connector (TCP, then TLS), wrapped to mark every attempt at a new connection,
/// even one that fails in the TLS handshake, and to watch the connections it makes.
#[derive(Debug)]
pub struct Watcher<C> {
    inner: C,
    watch: Arc<Watch>,
}

impl<C> Watcher<C> {
    /// Wraps a connector chain.
    pub fn new(inner: C, watch: Arc<Watch>) -> Watcher<C> {
        Watcher { inner, watch }
    }
}

impl<C: Connector> Connector for Watcher<C> {
    type Out = Watched<C::Out>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, Error> {
        self.watch.fresh.store(true, Ordering::Relaxed);
        let made = self.inner.connect(details, chained)?;
        self.watch
            .connected
            .store(made.is_some(), Ordering::Relaxed);
        Ok(made.map(|inner| Watched {
            inner,
            watch: Arc::clone(&self.watch),
        }))
    }
}

/// A transport that reports input to its [`Watch`] and otherwise only forwards.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    watch: Arc<Watch>,
}

impl<T: Transport> Transport for Watched<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let got = self.inner.await_input(timeout)?;
        if got {
            self.watch.answered.store(true, Ordering::Relaxed);
        }
        Ok(got)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
