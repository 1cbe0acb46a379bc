//! The connection socket: a TCP stream on tokio's reactor that skips the read that would block.
//!
//! tokio's own `TcpStream` learns that a socket is drained by reading until the kernel says
//! `EAGAIN`. On a keep-alive connection that is one extra `recv` per request: read the request,
//! write the response, read again only to be told there is nothing. A TCP `recv` that returns
//! fewer bytes than asked for has already shown the receive queue empty, so this wrapper clears
//! the readiness right there and waits for the next edge-triggered event instead.
//!
//! # Ground rules
//! - Readiness is cleared only after a short read of a socket whose event carried nothing but
//!   "readable": a peer's FIN (read-closed) or an error keeps the readiness, so the next read
//!   reports it at once instead of waiting for an event that already came.
//! - `clear_ready` forgets only the readiness the guard observed; data that arrives after it
//!   raises a new event (tokio compares ticks), so nothing is lost in the window.

use std::io::{self, Read, Write};
use std::net::TcpStream as StdStream;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A nonblocking TCP stream registered with the current runtime.
pub struct Stream {
    fd: AsyncFd<StdStream>,
}

impl Stream {
    /// Takes over an accepted tokio stream.
    ///
    /// # Errors
    /// The stream cannot be moved to the reactor (out of registrations).
    pub fn new(stream: tokio::net::TcpStream) -> io::Result<Stream> {
        let std = stream.into_std()?;
        std.set_nonblocking(true)?;
        // `AsyncFd::new` is deprecated because an arbitrary `AsRawFd` type could report a
        // different descriptor over time; an owned `std::net::TcpStream` reports the one it owns
        // until it is dropped, which is what registration needs.
        #[allow(deprecated)]
        let fd = AsyncFd::new(std)?;
        Ok(Stream { fd })
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let wanted = unfilled.len();
            match guard.try_io(|fd| fd.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    let only_readable = {
                        let r = guard.ready();
                        r.is_readable() && !r.is_read_closed() && !r.is_error()
                    };
                    if n > 0 && n < wanted && only_readable {
                        guard.clear_ready();
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| fd.get_ref().write(buf)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.fd.get_ref().shutdown(std::net::Shutdown::Write))
    }
}
