//! Serving one TCP connection, and dropping it with a reset when a fault asks for one.
//!
//! Connections are served with hyper directly (not `axum::serve`) so that a "connection reset"
//! fault can drop one connection in the middle of a request: the client then sees a transport
//! error, never an HTTP status. The gate in [`crate::routes`] finds a [`ConnectionKill`] in each
//! request's extensions; the accept loop in [`crate::server`] hands each connection here.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Put into each request's extensions; cancelling it drops the request's connection with a reset.
#[derive(Clone)]
pub(crate) struct ConnectionKill {
    token: CancellationToken,
    reset: Arc<AtomicBool>,
}

impl ConnectionKill {
    pub(crate) fn kill(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.token.cancel();
    }
}

pub(crate) async fn serve_connection(stream: TcpStream, app: Router, shutdown: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let kill = ConnectionKill {
        token: CancellationToken::new(),
        reset: Arc::new(AtomicBool::new(false)),
    };
    let io = ResetOnDrop {
        inner: stream,
        reset: kill.reset.clone(),
    };
    let per_request = kill.clone();
    let service = tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(per_request.clone());
        app.clone().oneshot(req.map(axum::body::Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::select! {
        _ = connection => {}
        () = kill.token.cancelled() => {}
        () = shutdown.cancelled() => {}
    }
}

/// A TCP stream that, when a reset was asked for, closes with RST instead of FIN.
struct ResetOnDrop {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // A zero linger makes close() send RST and return at once, so it cannot block the
            // thread (the reason tokio deprecates the setter).
            #[expect(deprecated, reason = "zero linger never blocks; it is how a reset is sent")]
            let _ = self.inner.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ResetOnDrop {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetOnDrop {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
