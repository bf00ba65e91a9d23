//! The ceiling of any SMS centre that answers a submit_sm only once it is durable: an SMPP echo that, for each
//! window of submits, writes their PDUs into a preallocated journal and flushes it (`fdatasync`) once before it
//! answers them. No parsing beyond the PDU, no checks, no index, no SQL: one write and one flush per window.

use numbind_smpp::{Connection, ConnectionError, Pdu, PduBody, ReadOutcome};
use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpListener;

/// Journal size, preallocated and flushed before the first submit, so that each flush overwrites blocks the file
/// already has (no size or extent change to journal: the cheapest flush this file system does).
const JOURNAL_BYTES: u64 = 8 * 1024 * 1024;

/// How long a window waits for the submits the ESME is expected to send, like the SMS centre's linger.
const WINDOW_LINGER: Duration = Duration::from_millis(1);

/// Serves the durable echo; the journal lives in `directory`.
pub async fn serve_durable_smpp_echo(listener: TcpListener, directory: PathBuf) -> anyhow::Result<()> {
    let mut session_number = 0u32;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        session_number += 1;
        let journal_path = directory.join(format!("durable-echo-{session_number}.journal"));
        tokio::spawn(serve_session(Connection::new(stream), journal_path));
    }
}

async fn serve_session(mut connection: Connection, journal_path: PathBuf) {
    // Preallocating writes and flushes 8 MiB: off the runtime's workers, before the session reads its bind.
    let mut journal = match tokio::task::spawn_blocking(move || DurableJournal::create(journal_path)).await {
        Ok(Ok(journal)) => journal,
        Ok(Err(error)) => return tracing::error!(%error, "durable echo cannot create its journal"),
        Err(error) => return tracing::error!(%error, "durable echo's journal task failed"),
    };
    let mut expected = 1usize;
    while let Ok(Some(ReadOutcome::Pdu(first))) = connection.read_pdu().await {
        let mut window = vec![first];
        if is_submit(&window[0]) {
            read_window(&mut connection, &mut window, expected).await;
            if let Err(error) = journal.append_and_flush(&window) {
                tracing::error!(%error, "durable echo cannot write its journal");
                return;
            }
            expected = window.len();
        }
        let mut answers = Vec::with_capacity(window.len() * 64);
        let mut last = false;
        for request in window {
            let (answer, ends) = crate::baselines::echo_answer(request);
            answers.extend_from_slice(&answer.encode());
            last |= ends;
        }
        if connection.writer.write_raw(&answers).await.is_err() || last {
            break;
        }
    }
}

/// Adds to `window` the PDUs the ESME is expected to send with it (waiting at most `WINDOW_LINGER` for them),
/// then every PDU already readable.
async fn read_window(connection: &mut Connection, window: &mut Vec<Pdu>, expected: usize) {
    let deadline = tokio::time::Instant::now() + WINDOW_LINGER;
    while window.len() < expected {
        match tokio::time::timeout_at(deadline, connection.read_pdu()).await {
            Ok(Ok(Some(ReadOutcome::Pdu(next)))) => window.push(next),
            _ => return,
        }
    }
    while let Poll::Ready(Ok(Some(ReadOutcome::Pdu(next)))) = read_if_ready(connection).await {
        window.push(next);
    }
}

/// Polls one read once: the next PDU if the socket already holds it, `Pending` without waiting otherwise (the
/// read is cancel-safe, so dropping it loses nothing). A zero timeout would wait for the timer's next tick.
async fn read_if_ready(connection: &mut Connection) -> Poll<Result<Option<ReadOutcome>, ConnectionError>> {
    let mut read = std::pin::pin!(connection.read_pdu());
    std::future::poll_fn(|context| Poll::Ready(read.as_mut().poll(context))).await
}

fn is_submit(pdu: &Pdu) -> bool {
    matches!(pdu.body, PduBody::SubmitSm(_))
}

/// A preallocated file written round-robin.
struct DurableJournal {
    file: File,
    offset: u64,
}

impl DurableJournal {
    fn create(path: PathBuf) -> std::io::Result<DurableJournal> {
        let file = File::options().read(true).write(true).create(true).truncate(true).open(path)?;
        let zeros = vec![0u8; 1024 * 1024];
        for chunk in 0..JOURNAL_BYTES / zeros.len() as u64 {
            file.write_all_at(&zeros, chunk * zeros.len() as u64)?;
        }
        file.sync_all()?;
        Ok(DurableJournal { file, offset: 0 })
    }

    /// Writes the window's PDUs at the next offset and flushes them; blocks for the flush, as a store would.
    fn append_and_flush(&mut self, window: &[Pdu]) -> std::io::Result<()> {
        let bytes: Vec<u8> = window.iter().flat_map(Pdu::encode).collect();
        if self.offset + bytes.len() as u64 > JOURNAL_BYTES {
            self.offset = 0;
        }
        self.file.write_all_at(&bytes, self.offset)?;
        self.file.sync_data()?;
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_smpp::{Bind, CommandStatus, ShortMessage};

    fn submit(sequence_number: u32, text: &str) -> Pdu {
        let mut message = ShortMessage { destination_addr: "13800138000".into(), ..ShortMessage::default() };
        message.set_text_octets(0, text.as_bytes().to_vec());
        Pdu { command_status: CommandStatus::EsmeRok, sequence_number, body: PduBody::SubmitSm(message) }
    }

    #[tokio::test]
    async fn each_submit_is_answered_only_once_its_pdu_is_in_the_flushed_journal() {
        let directory = tempfile::tempdir().unwrap();
        let listener = crate::system::listen_loopback().unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve_durable_smpp_echo(listener, directory.path().to_owned()));
        let mut connection = Connection::new(tokio::net::TcpStream::connect(address).await.unwrap());
        let bind = Bind { system_id: "esme".into(), password: "pw".into(), ..Bind::default() };
        connection
            .write_pdu(&Pdu {
                command_status: CommandStatus::EsmeRok,
                sequence_number: 1,
                body: PduBody::BindTransmitter(bind),
            })
            .await
            .unwrap();
        assert!(matches!(connection.read_pdu().await, Ok(Some(ReadOutcome::Pdu(_)))));
        let submits: Vec<Pdu> = (2..5).map(|sequence| submit(sequence, &format!("message {sequence}"))).collect();
        for pdu in &submits {
            connection.write_pdu(pdu).await.unwrap();
        }
        for pdu in &submits {
            let Ok(Some(ReadOutcome::Pdu(answer))) = connection.read_pdu().await else { panic!("no answer") };
            assert!(matches!(answer.body, PduBody::SubmitSmResp { .. }));
            let journal = std::fs::read(directory.path().join("durable-echo-1.journal")).unwrap();
            let encoded = pdu.encode();
            assert!(journal.windows(encoded.len()).any(|bytes| bytes == encoded), "answered before journaled");
        }
    }
}
