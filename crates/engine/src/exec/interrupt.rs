//! Ctrl-C as a stream of interrupts the executor selects on, so tests can interrupt a run
//! without sending signals.

use tokio::sync::mpsc;

/// Interrupt requests: the first asks the run to stop taking rows, the second to stop at once.
#[derive(Debug)]
pub struct Interrupts {
    rx: Option<mpsc::UnboundedReceiver<()>>,
}

impl Interrupts {
    /// Never interrupted.
    pub fn none() -> Interrupts {
        Interrupts { rx: None }
    }

    /// Interrupted by whoever holds the sender.
    pub fn channel() -> (mpsc::UnboundedSender<()>, Interrupts) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Interrupts { rx: Some(rx) })
    }

    /// Interrupted by Ctrl-C (SIGINT). From this call on, Ctrl-C no longer ends the process by
    /// itself: the run decides. Must be called inside a tokio runtime.
    pub fn ctrl_c() -> Interrupts {
        let (tx, rx) = Interrupts::channel();
        // One listener for the whole run: a second Ctrl-C that comes while the first is being
        // handled is kept, not lost between two listeners.
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
                tokio::spawn(async move {
                    while sigint.recv().await.is_some() {
                        if tx.send(()).is_err() {
                            break;
                        }
                    }
                });
                return rx;
            }
        }
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// The next interrupt; pending forever when none can come.
    pub async fn recv(&mut self) {
        match &mut self.rx {
            Some(rx) => {
                if rx.recv().await.is_none() {
                    self.rx = None;
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}
