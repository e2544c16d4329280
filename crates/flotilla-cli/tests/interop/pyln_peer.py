"""An independent Lightning peer (pyln-proto's BOLT 8) against a running flotilla node.

Usage: pyln_peer.py NODE_ID HOST PORT

Does, in order, and prints one JSON object with what it saw:
  1. a TCP connection that closes in the middle of the handshake, and one that sends
     50 bytes of garbage as act one (the node must shrug both off);
  2. the BOLT 8 handshake, the BOLT 1 init exchange, ping -> pong;
  3. an unknown odd message (ignored: a ping after it is still answered);
  4. two well-formed flotilla messages (cancel_payment 32773, and update_fulfill_htlc
     tunnelled as 33029), then a ping so they are processed before we go on;
  5. a malformed flotilla message (33029 with 5 bytes): the node must answer with a
     warning and close the connection (warnings about step 4's messages, which come
     from a peer that shares no channel, may come first);
  6. a second session: handshake, init, ping -> pong (the node still serves).
"""

import json
import os
import socket
import struct
import sys

from pyln.proto.wire import PrivateKey, PublicKey, connect


def read_until(conn, wanted):
    """Reads messages until one of type `wanted`; returns its payload."""
    for _ in range(50):
        m = conn.read_message()
        (t,) = struct.unpack("!H", m[:2])
        if t == wanted:
            return m[2:]
        if t == 18:  # the node pinged us: answer, as BOLT 1 asks
            (num,) = struct.unpack("!H", m[2:4])
            conn.send_message(struct.pack("!HH", 19, num) + b"\x00" * num)
    raise RuntimeError(f"no message of type {wanted}")


def session(node_id, host, port):
    conn = connect(PrivateKey(os.urandom(32)), node_id, host, port)
    init = read_until(conn, 16)
    (gflen,) = struct.unpack("!H", init[:2])
    (flen,) = struct.unpack("!H", init[2 + gflen : 4 + gflen])
    features = init[4 + gflen : 4 + gflen + flen]
    # Our init: no features at all (the node must not require any).
    conn.send_message(struct.pack("!HHH", 16, 0, 0))
    return conn, features.hex()


def ping(conn, num_pong_bytes=12):
    conn.send_message(struct.pack("!HHH", 18, num_pong_bytes, 4) + b"\x00" * 4)
    pong = read_until(conn, 19)
    (n,) = struct.unpack("!H", pong[:2])
    return n


def main():
    node_id = PublicKey(bytes.fromhex(sys.argv[1]))
    host, port = sys.argv[2], int(sys.argv[3])
    out = {}

    s = socket.create_connection((host, port))
    s.send(b"\x00" + os.urandom(20))  # half of act one, then gone
    s.close()
    s = socket.create_connection((host, port))
    s.send(os.urandom(50))  # a whole act one of garbage
    s.settimeout(10)
    try:
        out["garbage_act_one_answer"] = len(s.recv(100))
    except (ConnectionResetError, socket.timeout):
        out["garbage_act_one_answer"] = 0
    s.close()

    conn, features = session(node_id, host, port)
    out["init_features"] = features
    out["pong_len"] = ping(conn)

    conn.send_message(struct.pack("!H", 33333) + b"whatever")
    out["pong_after_unknown_odd"] = ping(conn, 3)

    cancel = struct.pack("!H", 32773) + bytes([7]) * 32
    fulfill = struct.pack("!H", 33029) + bytes(32) + struct.pack("!Q", 5) + bytes([9]) * 32
    conn.send_message(cancel)
    conn.send_message(fulfill)
    out["pong_after_flotilla"] = ping(conn, 1)

    conn.send_message(struct.pack("!H", 33029) + b"\x01\x02\x03\x04\x05")
    # Read every message until the node closes the connection. The node may first warn
    # about the two well-formed messages (we share no channel with it), so the warning
    # for the malformed one is the last, and the close must follow it.
    out["warnings"] = []
    out["closed_after_warning"] = False
    for _ in range(50):
        try:
            m = conn.read_message()
        except Exception:
            out["closed_after_warning"] = bool(out["warnings"])
            break
        (t,) = struct.unpack("!H", m[:2])
        if t == 1:
            (dlen,) = struct.unpack("!H", m[34:36])
            out["warnings"].append(m[36 : 36 + dlen].decode("utf-8", "replace"))
    out["warning"] = out["warnings"][-1] if out["warnings"] else None

    conn2, _ = session(node_id, host, port)
    out["second_session_pong_len"] = ping(conn2, 7)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
