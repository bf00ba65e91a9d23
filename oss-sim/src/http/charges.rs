//! `GET /v1/charges?msisdn=&payment_id=&month=2026-12&day=2026-12-07&limit=`: the OSS's own records of charges and refunds
//! (admin token, full numbers), oldest first, for operators and for reconciliation with the platform's ledger; and
//! `GET /v1/platform/bill-lines?day=2026-12-07`, the same records of one day for the platform's own reconciliation
//! (component HMAC, client `platform`), with `complete: false` when the day holds more than one answer carries.

use super::revocations::verify_platform_hmac;
use super::subscribers::parse_msisdn;
use crate::domain::ledger::ChargeRecord;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ChargeRecordFilter;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use numbind_process::http_api::ApiQuery;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Records in one answer when the query names no `limit`, and at most.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5_000;
/// Records of one day in one answer to the platform; beyond it the answer says it is not complete.
const PLATFORM_DAY_LIMIT: usize = 100_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChargesQuery {
    msisdn: Option<String>,
    payment_id: Option<String>,
    month: Option<String>,
    day: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/charges` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChargeRecordList {
    pub records: Vec<ChargeRecord>,
}

impl TryFrom<ChargesQuery> for ChargeRecordFilter {
    type Error = ApiError;

    fn try_from(query: ChargesQuery) -> Result<Self, Self::Error> {
        let non_empty =
            |value: Option<String>| value.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
        let month = non_empty(query.month);
        if let Some(month) = &month {
            if !is_month(month) {
                return Err(ApiError::InvalidRequest("month is written 2026-12".to_owned()));
            }
        }
        let day = non_empty(query.day);
        if let Some(day) = &day {
            if !is_day(day) {
                return Err(ApiError::InvalidRequest("day is written 2026-12-07".to_owned()));
            }
        }
        let payment_id = non_empty(query.payment_id);
        if payment_id.as_ref().is_some_and(|id| id.len() > 128) {
            return Err(ApiError::InvalidRequest("payment_id is at most 128 characters".to_owned()));
        }
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::InvalidRequest(format!("limit is 1 to {MAX_LIMIT}")));
        }
        Ok(ChargeRecordFilter {
            msisdn: non_empty(query.msisdn).map(|text| parse_msisdn(&text)).transpose()?,
            payment_id,
            month,
            day,
            limit,
        })
    }
}

/// `YYYY-MM` with a month from 01 to 12.
fn is_month(text: &str) -> bool {
    let Some((year, month)) = text.split_once('-') else { return false };
    let digits = |part: &str, length: usize| part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(year, 4) && digits(month, 2) && month.parse::<u8>().is_ok_and(|month| (1..=12).contains(&month))
}

/// `YYYY-MM-DD` with a month from 01 to 12 and a day from 01 to 31.
fn is_day(text: &str) -> bool {
    let Some((month, day)) = text.rsplit_once('-') else { return false };
    is_month(month)
        && day.len() == 2
        && day.bytes().all(|byte| byte.is_ascii_digit())
        && day.parse::<u8>().is_ok_and(|day| (1..=31).contains(&day))
}

pub(super) async fn list_charges(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<ChargesQuery>,
) -> Result<Json<ChargeRecordList>, ApiError> {
    let filter = ChargeRecordFilter::try_from(query)?;
    let records = state.store.call(move |store| store.list_charge_records(&filter)).await?;
    Ok(Json(ChargeRecordList { records }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BillLinesQuery {
    day: String,
}

/// `GET /v1/platform/bill-lines` answer: the day's records, and whether they are all of them.
#[derive(Debug, Serialize)]
pub(super) struct BillLineList {
    records: Vec<ChargeRecord>,
    complete: bool,
}

/// The platform reads the bill lines of one day to reconcile them with its ledger.
#[tracing::instrument(skip_all)]
pub(super) async fn bill_lines_for_platform(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<BillLinesQuery>,
) -> Result<Json<BillLineList>, ApiError> {
    verify_platform_hmac(&state, &headers, &method, &uri, &[])?;
    let day = query.day.trim().to_owned();
    if !is_day(&day) {
        return Err(ApiError::InvalidRequest("day is written 2026-12-07".to_owned()));
    }
    let filter = ChargeRecordFilter {
        msisdn: None,
        payment_id: None,
        month: None,
        day: Some(day),
        limit: PLATFORM_DAY_LIMIT + 1,
    };
    let mut records = state.store.call(move |store| store.list_charge_records(&filter)).await?;
    let complete = records.len() <= PLATFORM_DAY_LIMIT;
    records.truncate(PLATFORM_DAY_LIMIT);
    Ok(Json(BillLineList { records, complete }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(month: Option<&str>, limit: Option<usize>) -> ChargesQuery {
        ChargesQuery { msisdn: None, payment_id: None, month: month.map(str::to_owned), day: None, limit }
    }

    #[test]
    fn a_month_is_year_dash_month_and_the_limit_is_bounded() {
        assert!(ChargeRecordFilter::try_from(query(Some("2026-12"), None)).is_ok_and(|filter| filter.limit == 500));
        for bad in ["2026-13", "2026-1", "26-12", "2026/12", "2026-00"] {
            assert!(ChargeRecordFilter::try_from(query(Some(bad), None)).is_err(), "{bad}");
        }
        assert!(ChargeRecordFilter::try_from(query(None, Some(0))).is_err());
        assert!(ChargeRecordFilter::try_from(query(None, Some(MAX_LIMIT + 1))).is_err());
    }

    #[test]
    fn a_day_is_year_dash_month_dash_day() {
        assert!(is_day("2026-12-07") && is_day("2026-01-31"));
        for bad in ["2026-12-7", "2026-12-32", "2026-13-01", "2026-12-00", "2026-12", "20261207", "2026-12-0x"] {
            assert!(!is_day(bad), "{bad}");
        }
    }
}
