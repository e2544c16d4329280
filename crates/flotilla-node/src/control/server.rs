//! The daemon's side of the control socket.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::protocol::{Envelope, Response};
use super::MAX_REQUEST_LEN;
use crate::daemon::Shared;
use crate::error::NodeError;

/// The longest socket path Linux accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Binds the control socket at `path` with mode 0600, replacing a stale one.
pub fn bind(path: &Path) -> Result<UnixListener, NodeError> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(NodeError::Address(format!(
            "{}: the control socket's path is {len} bytes; Unix sockets allow {MAX_SOCKET_PATH}: use a shorter --data-dir",
            path.display()
        )));
    }
    if path.exists() {
        // A live daemon answers; a dead one left its socket behind.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(NodeError::Control(format!(
                "{}: a node is already running on this data directory",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(|e| NodeError::io(path, e))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| NodeError::io(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| NodeError::io(path, e))?;
    Ok(listener)
}

/// Constant-time equality, so the token cannot be guessed byte by byte from timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves `listener` until the task is dropped.
pub async fn serve(listener: UnixListener, token: String, shared: Arc<Shared>) {
    let token = Arc::new(token);
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("control: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (token, shared) = (token.clone(), shared.clone());
        tokio::spawn(async move {
            if let Err(e) = session(stream, &token, &shared).await {
                tracing::debug!("control connection ended: {e}");
            }
        });
    }
}

async fn session(stream: UnixStream, token: &str, shared: &Arc<Shared>) -> std::io::Result<()> {
    let own_uid = shared.uid;
    let peer_uid = stream.peer_cred().map(|c| c.uid()).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    if peer_uid != Some(own_uid) {
        tracing::warn!(?peer_uid, "control: refused a connection from another user");
        let r = Response::err(format!(
            "refused: the node runs as user {own_uid} and only answers that user"
        ));
        return refuse_and_close(&mut reader, &mut write, &r).await;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_REQUEST_LEN as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_REQUEST_LEN {
            let r = Response::err(format!(
                "request longer than {MAX_REQUEST_LEN} bytes; closing"
            ));
            return refuse_and_close(&mut reader, &mut write, &r).await;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Envelope>(text) {
            Err(e) => Response::err(format!("bad request: {e}")),
            Ok(env) if !same(env.token.as_bytes(), token.as_bytes()) => {
                tracing::warn!("control: refused a request with a wrong or missing token");
                Response::err(
                    "refused: wrong or missing token (see control.token in the data directory)",
                )
            }
            Ok(env) => shared.handle(env.request).await,
        };
        write_line(&mut write, &response).await?;
    }
}

/// Answers `r` and closes. Closing with unread bytes would reset the connection and
/// could lose the answer, so what the client is still sending is read and dropped
/// first (at most 1 MiB, at most 1 s).
async fn refuse_and_close(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    write: &mut tokio::net::unix::OwnedWriteHalf,
    r: &Response,
) -> std::io::Result<()> {
    write_line(write, r).await?;
    let mut rest = reader.take(1 << 20);
    let mut sink = tokio::io::sink();
    let drain = tokio::io::copy(&mut rest, &mut sink);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
    Ok(())
}

async fn write_line(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    r: &Response,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(r).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.flush().await
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn token_comparison() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
    }
}
