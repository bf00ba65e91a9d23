//! Scenario 4, SMS centre: submit_sm per second over one SMPP session with a window of 10, against an SMPP echo
//! that answers each submit_sm at once (same sender, same PDUs). A second row measures, in the same rounds, the
//! durable echo (one journal write and one flush per window, nothing else) against the same echo: the ceiling of
//! any SMS centre that answers only what is on disk, so the limit of this target on this disk. A third row
//! measures CMPP 3.0 SUBMITs on one connection with a window of 16 against a CMPP echo built on the same codec
//! (`crate::cmpp_submits`).

use crate::cmpp_submits::{windowed_cmpp_submits, CmppRun, CMPP_SHARED_SECRET, CMPP_SOURCE_ADDR, CMPP_WINDOW};
use crate::latency::LatencyRecorder;
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::measurement_duration;
use crate::system::{start_smsc, ServerRuntime, SHORT_CODE, UNTHROTTLED_SUBMITS_PER_SECOND};
use crate::BenchOptions;
use anyhow::Context;
use numbind_smpp::pdu::{CommandStatus, TAG_CLIENT_REFERENCE};
use numbind_smpp::{encode_text, Bind, Connection, Pdu, PduBody, ReadOutcome, ShortMessage};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const WINDOW: usize = 10;
const SYSTEM_ID: &str = "bench";
const PASSWORD: &str = "benchpw";

/// Which server a row measures against the echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measured {
    SmsCentre,
    /// The ceiling of any store that answers only once durable (`crate::durable_echo`).
    DurableEcho,
    /// The SMS centre's CMPP listener (ISMG), against the CMPP echo.
    CmppSmsCentre,
}

fn heading(measured: Measured) -> ScenarioHeading {
    let (variant, target, target_checks) = match measured {
        Measured::SmsCentre => {
            (format!("window {WINDOW}"), ">= 0.5x the echo", vec![check("ratio", Comparison::AtLeast, 0.5)])
        }
        Measured::DurableEcho => (format!("window {WINDOW}, durable echo (one flush per window)"), "", Vec::new()),
        Measured::CmppSmsCentre => (
            format!("CMPP 3.0 SUBMIT, window {CMPP_WINDOW}"),
            ">= 0.5x the echo",
            vec![check("ratio", Comparison::AtLeast, 0.5)],
        ),
    };
    let baseline_name = if measured == Measured::CmppSmsCentre { "CMPP echo" } else { "SMPP echo" };
    ScenarioHeading {
        scenario: 4,
        name: "SMS centre: submit_sm, one session",
        variant,
        unit: "submit/s",
        baseline_name,
        target,
        target_checks,
    }
}

/// What one windowed run measured.
#[derive(Clone)]
struct SubmitResult {
    accepted: u64,
    refused: u64,
    elapsed: Duration,
    latencies: LatencyRecorder,
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let shutdown = CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();
    let mut account = numbind_sms_sim::EsmeAccount::new(SYSTEM_ID, PASSWORD, vec![]);
    account.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let mut provider = numbind_sms_sim::EsmeAccount::cmpp(CMPP_SOURCE_ADDR, CMPP_SHARED_SECRET, vec![]);
    provider.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let smsc = start_smsc(&runtime, directory.path(), vec![account, provider], &shutdown).await?;
    let smsc_smpp = smsc.smpp;
    let echo = runtime.serve(crate::baselines::serve_smpp_echo).await?;
    let cmpp_echo = runtime.serve(crate::cmpp_submits::serve_cmpp_echo).await?;
    let journal_directory = directory.path().to_owned();
    let durable_echo = runtime
        .serve(move |listener| crate::durable_echo::serve_durable_smpp_echo(listener, journal_directory))
        .await?;
    let duration = measurement_duration(options.quick);
    let (mut repeats, mut durable_repeats, mut cmpp_repeats) = (Vec::new(), Vec::new(), Vec::new());
    for repeat in 0..options.repeats {
        options.progress.repeat("", repeat);
        let ceiling = windowed_submits(echo, duration, repeat).await.context("echo")?;
        let measured = windowed_submits(smsc_smpp, duration, repeat).await.context("sms centre")?;
        let durable = windowed_submits(durable_echo, duration, repeat).await.context("durable echo")?;
        durable_repeats.push(figures(durable, ceiling.clone()));
        repeats.push(figures(measured, ceiling));
        let cmpp_ceiling = windowed_cmpp_submits(cmpp_echo, duration).await.context("cmpp echo")?;
        let cmpp_measured = windowed_cmpp_submits(smsc.cmpp, duration).await.context("sms centre over cmpp")?;
        cmpp_repeats.push(cmpp_figures(cmpp_measured, cmpp_ceiling));
    }
    let notes = vec![
        format!("bench account throttle set to {UNTHROTTLED_SUBMITS_PER_SECOND}/s (sms-sim default 150/s)"),
        "each submit_sm carries a unique client reference (0x1402), UCS-2 Chinese text like the notification".into(),
    ];
    let durable_notes = vec![
        "the ceiling of any store that answers only once durable: each window's PDUs written into a preallocated \
         journal and flushed (fdatasync) once, then answered; no checks, no index, no SQL"
            .into(),
    ];
    Ok(vec![
        ScenarioReport::from_repeats(heading(Measured::SmsCentre), repeats, notes),
        ScenarioReport::from_repeats(heading(Measured::DurableEcho), durable_repeats, durable_notes),
        ScenarioReport::from_repeats(heading(Measured::CmppSmsCentre), cmpp_repeats, cmpp_notes()),
    ])
}

fn cmpp_notes() -> Vec<String> {
    vec!["one CMPP 3.0 connection, each SUBMIT a UCS-2 Chinese notification charged per message with a status report; \
         the echo logs in and answers with the same codec, doing no other work"
        .into()]
}

fn cmpp_figures(mut measured: CmppRun, mut ceiling: CmppRun) -> RepeatFigures {
    let rate = |run: &CmppRun| run.accepted as f64 / run.elapsed.as_secs_f64().max(1e-9);
    RepeatFigures::new(rate(&measured), rate(&ceiling))
        .with("p50_ms", measured.latencies.quantile_milliseconds(0.5))
        .with("p99_ms", measured.latencies.quantile_milliseconds(0.99))
        .with("baseline_p99_ms", ceiling.latencies.quantile_milliseconds(0.99))
        .with("refused", measured.refused as f64)
}

fn figures(mut measured: SubmitResult, mut ceiling: SubmitResult) -> RepeatFigures {
    let rate = |result: &SubmitResult| result.accepted as f64 / result.elapsed.as_secs_f64().max(1e-9);
    RepeatFigures::new(rate(&measured), rate(&ceiling))
        .with("p50_ms", measured.latencies.quantile_milliseconds(0.5))
        .with("p99_ms", measured.latencies.quantile_milliseconds(0.99))
        .with("baseline_p99_ms", ceiling.latencies.quantile_milliseconds(0.99))
        .with("refused", measured.refused as f64)
}

fn submit(sequence_number: u32, reference: String) -> Pdu {
    let mut message = ShortMessage {
        source_addr_npi: 1,
        source_addr: SHORT_CODE.into(),
        dest_addr_npi: 1,
        destination_addr: "13800138000".into(),
        ..ShortMessage::default()
    };
    let (data_coding, octets) = encode_text("已绑定：您的号码已为机顶盒 numbind bench STB 代付业务费用。");
    message.set_text_octets(data_coding, octets);
    message.set_tlv(TAG_CLIENT_REFERENCE, reference.into_bytes());
    Pdu { command_status: CommandStatus::EsmeRok, sequence_number, body: PduBody::SubmitSm(message) }
}

async fn bind_transmitter(address: SocketAddr) -> anyhow::Result<Connection> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let mut connection = Connection::new(stream);
    let bind = Bind {
        system_id: SYSTEM_ID.into(),
        password: PASSWORD.into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    };
    connection
        .write_pdu(&Pdu {
            command_status: CommandStatus::EsmeRok,
            sequence_number: 1,
            body: PduBody::BindTransmitter(bind),
        })
        .await?;
    match connection.read_pdu().await? {
        Some(ReadOutcome::Pdu(answer)) if answer.command_status == CommandStatus::EsmeRok => Ok(connection),
        other => anyhow::bail!("bind refused: {other:?}"),
    }
}

/// Keeps `WINDOW` submit_sm outstanding on one session for `duration`, then drains the window.
async fn windowed_submits(address: SocketAddr, duration: Duration, repeat: usize) -> anyhow::Result<SubmitResult> {
    let mut connection = bind_transmitter(address).await?;
    let run_id = format!("{}-{repeat}", std::process::id());
    let mut sent_at: HashMap<u32, Instant> = HashMap::new();
    let mut result = SubmitResult { accepted: 0, refused: 0, elapsed: Duration::ZERO, latencies: Default::default() };
    let started = Instant::now();
    let deadline = started + duration;
    let mut sequence_number = 1u32;
    loop {
        if Instant::now() < deadline && sent_at.len() < WINDOW {
            sequence_number += 1;
            connection.write_pdu(&submit(sequence_number, format!("b{run_id}-{sequence_number}"))).await?;
            sent_at.insert(sequence_number, Instant::now());
            continue;
        }
        if sent_at.is_empty() {
            break;
        }
        match connection.read_pdu().await? {
            Some(ReadOutcome::Pdu(Pdu { command_status, sequence_number, body: PduBody::SubmitSmResp { .. } })) => {
                if let Some(sent) = sent_at.remove(&sequence_number) {
                    result.latencies.record(sent.elapsed());
                }
                if command_status == CommandStatus::EsmeRok {
                    result.accepted += 1;
                } else {
                    result.refused += 1;
                }
            }
            Some(ReadOutcome::Pdu(Pdu { sequence_number, body: PduBody::EnquireLink, .. })) => {
                connection
                    .write_pdu(&Pdu {
                        command_status: CommandStatus::EsmeRok,
                        sequence_number,
                        body: PduBody::EnquireLinkResp,
                    })
                    .await?;
            }
            Some(_) => {}
            None => anyhow::bail!("the peer closed the session"),
        }
    }
    result.elapsed = started.elapsed();
    Ok(result)
}
