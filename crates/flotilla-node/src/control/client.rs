//! The client side of the control socket, for the `flotilla node` commands: finds
//! the socket through `DIR/node.json`, reads the token, sends one request.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::protocol::{Envelope, Request, Response};
use crate::error::NodeError;
use crate::nodefile::NodeFile;

/// How long a request may take: `connect` waits up to 10 s for a handshake, `pay`
/// up to two minutes for an outcome.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(150);

/// Sends `request` to the node whose data directory is `dir` and returns its result.
pub fn request(dir: &Path, request: Request) -> Result<serde_json::Value, NodeError> {
    let node = NodeFile::read(dir)?;
    let socket = &node.control.socket;
    let token = std::fs::read_to_string(&node.control.token_file)
        .map_err(|e| NodeError::io(&node.control.token_file, e))?;
    let mut stream = UnixStream::connect(socket).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                format!("the node is not running ({e})")
            }
            _ => e.to_string(),
        };
        NodeError::Control(format!("{}: {why}", socket.display()))
    })?;
    let io = |e| NodeError::io(socket, e);
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).map_err(io)?;
    let env = Envelope {
        token: token.trim().to_string(),
        request,
    };
    let mut line = serde_json::to_vec(&env).map_err(|e| NodeError::Control(e.to_string()))?;
    line.push(b'\n');
    stream.write_all(&line).map_err(io)?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).map_err(io)?;
    if reply.is_empty() {
        return Err(NodeError::Control(format!(
            "{}: the node closed the connection without answering",
            socket.display()
        )));
    }
    let response: Response = serde_json::from_str(&reply)
        .map_err(|e| NodeError::Control(format!("{}: unreadable answer: {e}", socket.display())))?;
    match (response.ok, response.result, response.error) {
        (true, Some(result), _) => Ok(result),
        (_, _, Some(error)) => Err(NodeError::Control(error)),
        _ => Err(NodeError::Control(format!(
            "{}: an answer with neither result nor error",
            socket.display()
        ))),
    }
}
