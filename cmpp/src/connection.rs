//! A framed CMPP connection over any byte stream: whole frames in (at most a maximum frame size), PDUs out in
//! the layout of the link's version; a malformed PDU is reported with its header so that the caller can
//! answer it and keep the link.

use crate::pdu::{check_with_limit, DecodeError, EncodeError, FrameError, Header, Pdu, Version, MAX_PDU_LENGTH};
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
    /// A whole frame whose body does not decode; answer it with its Sequence_Id.
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
    #[error("the pdu does not fit the link's layout: {0}")]
    Encode(#[from] EncodeError),
}

/// The reading half: a buffer and a stream. `read_pdu` is cancel-safe (usable in `select!`).
#[derive(Debug)]
pub struct PduReader<R> {
    stream: R,
    buffer: BytesMut,
    version: Version,
    max_frame_length: usize,
}

impl<R: AsyncRead + Unpin> PduReader<R> {
    /// A reader of `version`'s layout, accepting frames up to [`MAX_PDU_LENGTH`].
    pub fn new(stream: R, version: Version) -> Self {
        PduReader { stream, buffer: BytesMut::with_capacity(4096), version, max_frame_length: MAX_PDU_LENGTH }
    }

    /// Refuses frames longer than `max_frame_length` (capped at [`MAX_PDU_LENGTH`]) as unframeable.
    pub fn with_max_frame_length(mut self, max_frame_length: usize) -> Self {
        self.max_frame_length = max_frame_length.min(MAX_PDU_LENGTH);
        self
    }

    /// Switches the layout, once CONNECT settled the link's version.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    pub fn version(&self) -> Version {
        self.version
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
        let length = match check_with_limit(&self.buffer, self.max_frame_length) {
            Ok(length) => length,
            Err(FrameError::Incomplete) => return Ok(None),
            Err(error) => return Err(ConnectionError::Framing(error)),
        };
        let frame = &self.buffer[..length];
        let outcome = match Pdu::decode(frame, self.version) {
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
    version: Version,
}

impl<W: AsyncWrite + Unpin> PduWriter<W> {
    pub fn new(stream: W, version: Version) -> Self {
        PduWriter { stream: BufWriter::new(stream), version }
    }

    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Encodes `pdu` in the link's layout and writes it; a PDU that does not fit the layout is refused before
    /// any byte is written, and the link stays usable.
    pub async fn write_pdu(&mut self, pdu: &Pdu) -> Result<(), ConnectionError> {
        let bytes = pdu.encode(self.version)?;
        self.stream.write_all(&bytes).await?;
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

/// A connection carrying CMPP, readable and writable from one task, or split into two halves.
pub struct Connection {
    pub reader: PduReader<ReadHalf>,
    pub writer: PduWriter<WriteHalf>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Connection").field("version", &self.reader.version()).finish_non_exhaustive()
    }
}

impl Connection {
    /// Plain TCP, in `version`'s layout.
    pub fn new(stream: TcpStream, version: Version) -> Self {
        let (read_half, write_half) = stream.into_split();
        Connection {
            reader: PduReader::new(Box::new(read_half), version),
            writer: PduWriter::new(Box::new(write_half), version),
        }
    }

    /// Any other stream, split so that one task reads while another writes.
    pub fn over<Stream>(stream: Stream, version: Version) -> Self
    where
        Stream: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(stream);
        Connection {
            reader: PduReader::new(Box::new(read_half), version),
            writer: PduWriter::new(Box::new(write_half), version),
        }
    }

    /// Switches both halves to `version`'s layout.
    pub fn set_version(&mut self, version: Version) {
        self.reader.set_version(version);
        self.writer.set_version(version);
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
        let mut writer = PduWriter::new(client, Version::V3);
        let mut reader = PduReader::new(server, Version::V3);
        let mut garbage = vec![0, 0, 0, 20];
        garbage.extend_from_slice(&CommandId::Submit.value().to_be_bytes());
        garbage.extend_from_slice(&[0, 0, 0, 42, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        writer.write_raw(&garbage).await.unwrap();
        writer.write_pdu(&Pdu::new(43, PduBody::ActiveTest)).await.unwrap();
        match reader.read_pdu().await.unwrap() {
            Some(ReadOutcome::Malformed { header, .. }) => assert_eq!(header.sequence_id, 42),
            other => panic!("expected malformed, got {other:?}"),
        }
        assert_eq!(reader.read_pdu().await.unwrap(), Some(ReadOutcome::Pdu(Pdu::new(43, PduBody::ActiveTest))));
        drop(writer);
        assert_eq!(reader.read_pdu().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_pdu_arriving_one_byte_at_a_time_reads_whole_after_a_connect_resp_of_the_other_layout() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = PduWriter::new(client, Version::V3);
        let mut reader = PduReader::new(server, Version::V2);
        let answer = crate::pdu::ConnectResp {
            status: crate::pdu::ConnectStatus::Ok,
            authenticator_ismg: [7; 16],
            version: 0x30,
        };
        let pdu = Pdu::new(5, PduBody::ConnectResp(answer));
        let bytes = pdu.encode(Version::V3).unwrap();
        let reading = tokio::spawn(async move { reader.read_pdu().await.unwrap() });
        for byte in bytes {
            writer.write_raw(&[byte]).await.unwrap();
            tokio::task::yield_now().await;
        }
        assert_eq!(reading.await.unwrap(), Some(ReadOutcome::Pdu(pdu)));
    }

    #[tokio::test]
    async fn a_frame_over_the_maximum_size_ends_the_link_and_a_cut_frame_is_an_error() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = PduWriter::new(client, Version::V2);
        let mut reader = PduReader::new(server, Version::V2).with_max_frame_length(100);
        writer.write_raw(&[0, 0, 0, 101, 0, 0, 0, 4]).await.unwrap();
        assert!(matches!(reader.read_pdu().await, Err(ConnectionError::Framing(FrameError::TooLong { .. }))));

        let (client, server) = tokio::io::duplex(1024);
        let mut writer = PduWriter::new(client, Version::V2);
        let mut reader = PduReader::new(server, Version::V2);
        writer.write_raw(&[0, 0, 0, 12, 0, 0]).await.unwrap();
        drop(writer);
        assert!(matches!(reader.read_pdu().await, Err(ConnectionError::ResetByPeer)));
    }
}
