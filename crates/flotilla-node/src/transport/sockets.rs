//! The peer connections' sockets, so that what one batch sends a peer leaves in one
//! TCP segment.
//!
//! `PeerManager` writes every message with its own `send`, and the sockets have
//! `TCP_NODELAY` (see [`super::no_delay`]), so a commitment step's two messages
//! (`update_add_htlc` and `commitment_signed`, or `revoke_and_ack` and
//! `commitment_signed`) would go as two segments. The peer often wakes on the
//! first alone, applies and commits it, and only then the second: one more `fsync`
//! on the payment's path. Corking every peer socket while the peer manager writes
//! a batch's messages, and uncorking right after, sends them together without
//! holding anything back (uncorking pushes at once).
//!
//! lightning-net-tokio owns each socket; this keeps a duplicate of its descriptor
//! for as long as the connection's tasks run, so a descriptor corked here is always
//! the connection's, never a number the kernel has since given to another file.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Every live peer socket (a duplicate descriptor of each).
#[derive(Default)]
pub struct Sockets {
    next: AtomicU64,
    fds: Mutex<HashMap<u64, OwnedFd>>,
}

/// Keeps a socket in [`Sockets`] until dropped: drop it once the connection's
/// tasks have ended (the duplicate keeps the socket open until then).
pub struct Held {
    sockets: Arc<Sockets>,
    id: Option<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.sockets.lock().remove(&id);
        }
    }
}

impl Sockets {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, OwnedFd>> {
        self.fds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds a duplicate of `stream`'s descriptor while the guard lives. Without
    /// one (no descriptor left) the connection still works, only uncorked.
    pub fn hold(self: &Arc<Self>, stream: &impl AsFd) -> Held {
        let id = match stream.as_fd().try_clone_to_owned() {
            Ok(fd) => {
                let id = self.next.fetch_add(1, Ordering::Relaxed);
                self.lock().insert(id, fd);
                Some(id)
            }
            Err(e) => {
                tracing::debug!("peer socket not duplicated ({e}); its messages are not corked");
                None
            }
        };
        Held {
            sockets: self.clone(),
            id,
        }
    }

    /// Runs `write` with every peer socket corked, then uncorks them all, which
    /// sends what `write` wrote at once, as few segments as it fits in.
    pub fn corked<R>(&self, write: impl FnOnce() -> R) -> R {
        let fds = self.lock();
        for fd in fds.values() {
            set_cork(fd, true);
        }
        let r = write();
        for fd in fds.values() {
            set_cork(fd, false);
        }
        r
    }

    /// How many sockets are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(target_os = "linux")]
fn set_cork(fd: &OwnedFd, on: bool) {
    let v: libc::c_int = on.into();
    // SAFETY: a valid descriptor we own, and a pointer to a c_int with its size.
    // Failure (a socket already shut down) changes nothing worth reporting.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CORK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Elsewhere the messages go uncorked (each in its own segment).
#[cfg(not(target_os = "linux"))]
fn set_cork(_: &OwnedFd, _: bool) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn corked_writes_wait_for_the_uncork_and_the_guard_holds_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut b, _) = listener.accept().unwrap();
        a.set_nodelay(true).unwrap();
        let sockets = Arc::new(Sockets::default());
        let held = sockets.hold(&a);
        assert_eq!(sockets.len(), 1);
        let mut got = [0u8; 12];
        sockets.corked(|| {
            a.write_all(b"first ").unwrap();
            // Corked, the first write is held back (Linux holds up to 200 ms).
            #[cfg(target_os = "linux")]
            {
                b.set_read_timeout(Some(std::time::Duration::from_millis(30)))
                    .unwrap();
                let e = b.read(&mut got).unwrap_err();
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "{e}"
                );
            }
            a.write_all(b"second").unwrap();
        });
        b.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"first second");
        drop(held);
        assert!(sockets.is_empty());
        // The duplicate is gone: closing ours ends the connection.
        drop(a);
        assert_eq!(b.read(&mut got).unwrap(), 0);
    }
}
