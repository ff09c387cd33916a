//! Transports for protocol messages: TCP (length-prefixed frames, see
//! [`hetal_core::codec::encode_frame`]) and in-process channels (demo and tests).
//!
//! The receiver's frame limit is checked on the 8-byte length prefix before anything
//! is allocated, and the payload is then read in bounded chunks, so a peer that
//! announces a large frame and sends little cannot make the receiver reserve it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use hetal_core::codec::{self, FRAME_HEADER};

/// Default frame limit: 8 GiB (evaluation keys at N = 2^16 are gigabytes).
pub const DEFAULT_MAX_FRAME: u64 = 8 << 30;

/// Why a frame could not be sent or received.
#[derive(Debug)]
pub enum TransportError {
    /// The peer closed the connection between frames.
    Closed,
    /// The peer announced a frame above the limit.
    TooLarge {
        /// Announced length.
        len: u64,
        /// Limit.
        max: u64,
    },
    /// The connection ended inside a frame.
    Truncated {
        /// Bytes received.
        got: u64,
        /// Bytes announced.
        want: u64,
    },
    /// Another I/O error (including a read timeout).
    Io(io::Error),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => write!(f, "connection closed by the peer"),
            Self::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max} bytes")
            }
            Self::Truncated { got, want } => {
                write!(f, "connection ended inside a frame ({got} of {want} bytes)")
            }
            Self::Io(e) => write!(f, "network error: {e}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Sends and receives whole message payloads.
pub trait Transport {
    /// Sends one payload.
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError>;
    /// Sends one payload the caller no longer needs (an in-process transport hands it
    /// over instead of copying it).
    fn send_vec(&mut self, payload: Vec<u8>) -> Result<(), TransportError> {
        self.send(&payload)
    }
    /// Receives one payload (at most the transport's frame limit).
    fn recv(&mut self) -> Result<Vec<u8>, TransportError>;
}

/// Reads one frame from `r`: the length prefix, the limit check, then the payload in
/// chunks of at most 1 MiB.
pub fn read_frame(r: &mut impl Read, max: u64) -> Result<Vec<u8>, TransportError> {
    let mut head = [0u8; FRAME_HEADER];
    let mut got = 0;
    while got < FRAME_HEADER {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Err(TransportError::Closed),
            Ok(0) => {
                return Err(TransportError::Truncated {
                    got: got as u64,
                    want: FRAME_HEADER as u64,
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(TransportError::Io(e)),
        }
    }
    let len = codec::frame_len(head, max).map_err(|_| TransportError::TooLarge {
        len: u64::from_le_bytes(head),
        max,
    })?;
    let mut buf = Vec::with_capacity(len.min(1 << 20) as usize);
    r.take(len)
        .read_to_end(&mut buf)
        .map_err(TransportError::Io)?;
    if (buf.len() as u64) < len {
        return Err(TransportError::Truncated {
            got: buf.len() as u64,
            want: len,
        });
    }
    Ok(buf)
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> Result<(), TransportError> {
    w.write_all(&(payload.len() as u64).to_le_bytes())
        .and_then(|_| w.write_all(payload))
        .and_then(|_| w.flush())
        .map_err(TransportError::Io)
}

/// A TCP connection carrying frames.
pub struct TcpTransport {
    stream: TcpStream,
    max_frame: u64,
}

impl TcpTransport {
    /// Wraps a connected stream; `idle` bounds the wait for each frame (the server's
    /// training time per epoch must fit in it on the client side).
    pub fn new(stream: TcpStream, max_frame: u64, idle: Option<Duration>) -> io::Result<Self> {
        stream.set_read_timeout(idle)?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, max_frame })
    }
}

impl Transport for TcpTransport {
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        write_frame(&mut self.stream, payload)
    }
    fn recv(&mut self) -> Result<Vec<u8>, TransportError> {
        read_frame(&mut self.stream, self.max_frame)
    }
}

/// One end of an in-process channel pair (the same frame limit as TCP).
pub struct MemTransport {
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    max_frame: u64,
}

impl MemTransport {
    /// Two connected ends.
    pub fn pair(max_frame: u64) -> (Self, Self) {
        let (a_tx, b_rx) = mpsc::channel();
        let (b_tx, a_rx) = mpsc::channel();
        (
            Self {
                tx: a_tx,
                rx: a_rx,
                max_frame,
            },
            Self {
                tx: b_tx,
                rx: b_rx,
                max_frame,
            },
        )
    }
}

impl Transport for MemTransport {
    fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.tx
            .send(payload.to_vec())
            .map_err(|_| TransportError::Closed)
    }
    fn send_vec(&mut self, payload: Vec<u8>) -> Result<(), TransportError> {
        self.tx.send(payload).map_err(|_| TransportError::Closed)
    }
    fn recv(&mut self) -> Result<Vec<u8>, TransportError> {
        let p = self.rx.recv().map_err(|_| TransportError::Closed)?;
        if p.len() as u64 > self.max_frame {
            return Err(TransportError::TooLarge {
                len: p.len() as u64,
                max: self.max_frame,
            });
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_round_trip_and_limits_hold() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"hello").unwrap();
        write_frame(&mut wire, b"").unwrap();
        let mut r = &wire[..];
        assert_eq!(read_frame(&mut r, 16).unwrap(), b"hello");
        assert_eq!(read_frame(&mut r, 16).unwrap(), b"");
        assert!(matches!(
            read_frame(&mut r, 16),
            Err(TransportError::Closed)
        ));
        let mut r = &wire[..];
        assert!(matches!(
            read_frame(&mut r, 4),
            Err(TransportError::TooLarge { len: 5, max: 4 })
        ));
        // A huge announced length with a short body: refused by the limit, or (under a
        // huge limit) reported truncated without reserving the announced size.
        let mut lie = u64::MAX.to_le_bytes().to_vec();
        lie.extend_from_slice(b"abc");
        assert!(matches!(
            read_frame(&mut &lie[..], u64::MAX),
            Err(TransportError::Truncated { got: 3, .. })
        ));
        assert!(matches!(
            read_frame(&mut &wire[..5], 16),
            Err(TransportError::Truncated { got: 5, want: 8 })
        ));
    }

    proptest! {
        /// Random bytes through the frame reader and both message decoders: errors,
        /// never a panic (the stand-in for the fuzz target where cargo-fuzz is absent).
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            use std::sync::OnceLock;
            static CTX: OnceLock<hetal_core::ckks::CkksContext> = OnceLock::new();
            let ctx = CTX.get_or_init(|| {
                hetal_core::ckks::CkksContext::new(hetal_core::ckks::Params::insecure_n11()).unwrap()
            });
            let mut r = &bytes[..];
            while let Ok(p) = read_frame(&mut r, 1 << 16) {
                let _ = codec::decode_client_message(ctx, &p);
                let _ = codec::decode_server_message(ctx, &p);
            }
            let _ = codec::decode_frame(&bytes, 1 << 16);
        }
    }
}
