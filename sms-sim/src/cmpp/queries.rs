//! The ISMG's answers to a provider's CMPP_QUERY (its counts of one day, in total or for one service, from the
//! message store) and CMPP_CANCEL (a message still waiting is withdrawn; anything else answers Success_Id 1).

use super::messages::message_id_of;
use crate::state::AppState;
use crate::store::DailyCounts;
use numbind_cmpp::civil_time::{day_start_unix, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_cmpp::pdu::{QUERY_TYPE_SERVICE, QUERY_TYPE_TOTAL};
use numbind_cmpp::{Cancel, CancelResp, Query, QueryCounts, QueryResp};
use numbind_process::clock::now_unix_millis;

const DAY_MS: i64 = 86_400_000;

/// QUERY_RESP for `account`: the query's own fields and the counts of the day (China Standard Time) it names.
/// A day that is not a date, an unknown Query_Type or a Query_Type 1 without a service gets zero counts: the
/// response has no status field to refuse with.
pub(super) async fn answer_query(state: &AppState, account: &str, query: Query) -> QueryResp {
    let counts = match span_and_service(&query) {
        Some((from_ms, service_id)) => {
            let account = account.to_owned();
            let counted = state
                .store
                .call(move |store| store.daily_counts(&account, service_id.as_deref(), from_ms, from_ms + DAY_MS))
                .await;
            counted.unwrap_or_else(|error| {
                tracing::error!(%error, "cannot count messages for a cmpp query");
                DailyCounts::default()
            })
        }
        None => {
            tracing::info!(query_type = query.query_type, "cmpp query with no day or service to count; zero counts");
            DailyCounts::default()
        }
    };
    QueryResp { time: query.time, query_type: query.query_type, query_code: query.query_code, counts: wire(counts) }
}

/// The first millisecond of the queried day and the service asked about (`None`: every service).
fn span_and_service(query: &Query) -> Option<(i64, Option<String>)> {
    let service_id = match query.query_type {
        QUERY_TYPE_TOTAL => None,
        QUERY_TYPE_SERVICE if !query.query_code.is_empty() => Some(query.query_code.clone()),
        _ => return None,
    };
    let digits = query.time.as_bytes();
    if digits.len() != 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| query.time[range].parse::<u16>().ok();
    let (year, month, day) = (number(0..4)?, u8::try_from(number(4..6)?).ok()?, u8::try_from(number(6..8)?).ok()?);
    let start = day_start_unix(i64::from(year), month, day, CHINA_STANDARD_TIME_OFFSET_SECONDS)?;
    Some((start * 1000, service_id))
}

fn wire(counts: DailyCounts) -> QueryCounts {
    QueryCounts {
        mt_total_messages: counts.mt_total,
        mt_total_users: counts.mt_users,
        mt_succeeded: counts.mt_delivered,
        mt_waiting: counts.mt_waiting,
        mt_failed: counts.mt_failed,
        mo_succeeded: counts.mo_delivered,
        mo_waiting: counts.mo_waiting,
        mo_failed: counts.mo_failed,
    }
}

/// CANCEL_RESP for `account`: Success_Id 0 when the Msg_Id names one of its parts still waiting for its
/// siblings (the message is withdrawn, each part reported undeliverable), 1 otherwise (an MT reaches the phone
/// when it is stored, so a whole one is past cancelling).
pub(super) async fn answer_cancel(state: &AppState, account: &str, cancel: Cancel) -> CancelResp {
    let (account, message_id) = (account.to_owned(), message_id_of(cancel.msg_id));
    let cancelled =
        state.store.call(move |store| store.cancel_waiting_part(&account, &message_id, now_unix_millis())).await;
    match cancelled {
        Ok(true) => {
            tracing::info!(msg_id = cancel.msg_id.value(), "waiting mt cancelled by its provider");
            CancelResp::CANCELLED
        }
        Ok(false) => CancelResp::NOT_CANCELLED,
        Err(error) => {
            tracing::error!(%error, "cannot cancel an mt for a cmpp cancel");
            CancelResp::NOT_CANCELLED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(time: &str, query_type: u8, query_code: &str) -> Query {
        Query { time: time.into(), query_type, query_code: query_code.into(), reserve: String::new() }
    }

    #[test]
    fn a_query_names_a_china_day_and_optionally_a_service() {
        // 2026-12-07 00:00 in China is 2026-12-06T16:00:00Z.
        assert_eq!(span_and_service(&query("20261207", 0, "")), Some((1_796_572_800_000, None)));
        assert_eq!(span_and_service(&query("20261207", 1, "BIND")), Some((1_796_572_800_000, Some("BIND".into()))));
        assert_eq!(span_and_service(&query("20261207", 1, "")), None);
        assert_eq!(span_and_service(&query("20261207", 2, "")), None);
        assert_eq!(span_and_service(&query("20260230", 0, "")), None);
        assert_eq!(span_and_service(&query("2026127", 0, "")), None);
        assert_eq!(span_and_service(&query("2026-1-7", 0, "")), None);
    }
}
