//! A buffered SMPP connection over any byte stream (TCP, or TLS over TCP): whole frames in, PDUs out, malformed
//! PDUs reported with their header so the caller can nack them and keep the session.

use crate::pdu::{check, DecodeError, FrameError, Header, Pdu};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;

/// The reading half of a connection's stream, whatever carries it.
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half of a connection's stream, whatever carries it.
pub type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// What one read produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    Pdu(Pdu),
    /// A whole frame whose body does not decode; answer it with its sequence number.
    Malformed {
        header: Header,
        error: DecodeError,
    },
}

/// Why the connection cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer closed the connection in the middle of a pdu")]
    ResetByPeer,
    #[error("unframeable input: {0}")]
    Framing(FrameError),
}

/// The reading half: a buffer and a stream. `read_pdu` is cancel-safe (usable in `select!`).
#[derive(Debug)]
pub struct PduReader<R> {
    stream: R,
    buffer: BytesMut,
}

impl<R: AsyncRead + Unpin> PduReader<R> {
    pub fn new(stream: R) -> Self {
        PduReader { stream, buffer: BytesMut::with_capacity(8 * 1024) }
    }

    /// The next PDU; `Ok(None)` when the peer closed cleanly between PDUs.
    pub async fn read_pdu(&mut self) -> Result<Option<ReadOutcome>, ConnectionError> {
        loop {
            if let Some(outcome) = self.parse_buffered()? {
                return Ok(Some(outcome));
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return if self.buffer.is_empty() { Ok(None) } else { Err(ConnectionError::ResetByPeer) };
            }
        }
    }

    fn parse_buffered(&mut self) -> Result<Option<ReadOutcome>, ConnectionError> {
        let length = match check(&self.buffer) {
            Ok(length) => length,
            Err(FrameError::Incomplete) => return Ok(None),
            Err(error) => return Err(ConnectionError::Framing(error)),
        };
        let frame = &self.buffer[..length];
        let outcome = match Pdu::decode(frame) {
            Ok(pdu) => ReadOutcome::Pdu(pdu),
            Err(error) => match Header::parse(frame) {
                Ok(header) => ReadOutcome::Malformed { header, error },
                Err(frame_error) => return Err(ConnectionError::Framing(frame_error)),
            },
        };
        self.buffer.advance(length);
        Ok(Some(outcome))
    }
}

/// The writing half, buffered; every `write_pdu` flushes.
#[derive(Debug)]
pub struct PduWriter<W> {
    stream: BufWriter<W>,
}

impl<W: AsyncWrite + Unpin> PduWriter<W> {
    pub fn new(stream: W) -> Self {
        PduWriter { stream: BufWriter::new(stream) }
    }

    pub async fn write_pdu(&mut self, pdu: &Pdu) -> Result<(), ConnectionError> {
        self.stream.write_all(&pdu.encode()).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Writes raw bytes (tests use it to send malformed PDUs).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    pub async fn shutdown(&mut self) -> Result<(), ConnectionError> {
        self.stream.shutdown().await?;
        Ok(())
    }
}

/// A connection carrying SMPP, readable and writable from one task, or split into two halves.
pub struct Connection {
    pub reader: PduReader<ReadHalf>,
    pub writer: PduWriter<WriteHalf>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Plain TCP: the socket's own halves, no lock between them.
    pub fn new(stream: TcpStream) -> Self {
        let (read_half, write_half) = stream.into_split();
        Connection { reader: PduReader::new(Box::new(read_half)), writer: PduWriter::new(Box::new(write_half)) }
    }

    /// Any other stream (TLS): split so that one task reads while another writes.
    pub fn over<Stream>(stream: Stream) -> Self
    where
        Stream: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(stream);
        Connection { reader: PduReader::new(Box::new(read_half)), writer: PduWriter::new(Box::new(write_half)) }
    }

    pub async fn read_pdu(&mut self) -> Result<Option<ReadOutcome>, ConnectionError> {
        self.reader.read_pdu().await
    }

    pub async fn write_pdu(&mut self, pdu: &Pdu) -> Result<(), ConnectionError> {
        self.writer.write_pdu(pdu).await
    }

    pub fn into_split(self) -> (PduReader<ReadHalf>, PduWriter<WriteHalf>) {
        (self.reader, self.writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{CommandId, PduBody};

    #[tokio::test]
    async fn a_malformed_pdu_is_reported_and_the_next_one_still_reads() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = PduWriter::new(client);
        let mut reader = PduReader::new(server);
        let mut garbage = vec![0, 0, 0, 20];
        garbage.extend_from_slice(&CommandId::SubmitSm.value().to_be_bytes());
        garbage.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 42, 0xFF, 0xFF, 0xFF, 0xFF]);
        writer.write_raw(&garbage).await.unwrap();
        writer.write_pdu(&Pdu::new(43, PduBody::EnquireLink)).await.unwrap();
        match reader.read_pdu().await.unwrap() {
            Some(ReadOutcome::Malformed { header, .. }) => assert_eq!(header.sequence_number, 42),
            other => panic!("expected malformed, got {other:?}"),
        }
        assert_eq!(reader.read_pdu().await.unwrap(), Some(ReadOutcome::Pdu(Pdu::new(43, PduBody::EnquireLink))));
        drop(writer);
        assert_eq!(reader.read_pdu().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_frame_cut_by_the_peer_is_an_error() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = PduWriter::new(client);
        let mut reader = PduReader::new(server);
        writer.write_raw(&[0, 0, 0, 16, 0, 0]).await.unwrap();
        drop(writer);
        assert!(matches!(reader.read_pdu().await, Err(ConnectionError::ResetByPeer)));
    }
}
