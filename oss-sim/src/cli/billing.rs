//! `subscriber limits get|set` and `charges`: the billing side of the OSS admin API. Amounts are decimal yuan
//! (`5.00`), parsed exactly with `Amount::parse_decimal`, never through a float.

use super::admin::{AdminClient, AdminClientArgs};
use crate::domain::charging::{ChargeLimits, LimitOverride, BILLING_CURRENCY};
use crate::http::billing::ChargeLimitsView;
use crate::http::charges::ChargeRecordList;
use numbind_wire::{Amount, Msisdn};

#[derive(clap::Subcommand, Debug)]
pub enum LimitsCommand {
    /// Print the subscriber's own limits and the limits in force for it.
    Get {
        /// The subscriber's number.
        #[arg(value_parser = Msisdn::parse)]
        msisdn: Msisdn,
    },
    /// Change the subscriber's own limits; limits not named keep their current value.
    Set {
        /// The subscriber's number.
        #[arg(value_parser = Msisdn::parse)]
        msisdn: Msisdn,
        /// Most one charge may be, in yuan (`5.00`).
        #[arg(long, env = "NUMBIND_OSS_MAX_PER_CHARGE", value_parser = parse_yuan)]
        max_per_charge: Option<Amount>,
        /// Most one binding may be charged in a local day, in yuan.
        #[arg(long, env = "NUMBIND_OSS_DAILY_LIMIT", value_parser = parse_yuan)]
        daily: Option<Amount>,
        /// Most one binding may be charged in a local month, in yuan.
        #[arg(long, env = "NUMBIND_OSS_MONTHLY_LIMIT", value_parser = parse_yuan)]
        monthly: Option<Amount>,
        /// Least seconds between two charges on one binding.
        #[arg(long, env = "NUMBIND_OSS_MIN_INTERVAL_SECONDS")]
        min_interval_seconds: Option<u32>,
        /// Postpaid: most the number's bill may carry in charges a month, in yuan.
        #[arg(long, env = "NUMBIND_OSS_CREDIT_LIMIT", value_parser = parse_yuan)]
        credit_limit: Option<Amount>,
        /// Drop every own limit first (the operator's apply again), then set those named.
        #[arg(long, env = "NUMBIND_OSS_LIMITS_RESET")]
        reset: bool,
    },
}

/// List the OSS's own records of charges and refunds (for reconciliation), one per line.
#[derive(clap::Args, Debug)]
pub struct ChargesArgs {
    #[command(flatten)]
    pub client: AdminClientArgs,
    /// Only this number's records.
    #[arg(long, env = "NUMBIND_OSS_MSISDN", value_parser = Msisdn::parse)]
    pub msisdn: Option<Msisdn>,
    /// Only this payment's charge and refunds.
    #[arg(long, env = "NUMBIND_OSS_PAYMENT_ID")]
    pub payment_id: Option<String>,
    /// Only this local month, `2026-12`.
    #[arg(long, env = "NUMBIND_OSS_MONTH")]
    pub month: Option<String>,
    /// At most this many records (1-5000).
    #[arg(long, env = "NUMBIND_OSS_LIMIT", default_value_t = 500)]
    pub limit: u32,
}

fn parse_yuan(text: &str) -> Result<Amount, String> {
    Amount::parse_decimal(text, BILLING_CURRENCY).map_err(|error| error.to_string())
}

/// The own limits after `set`: the current ones (or none with `reset`) with the named ones replaced.
fn merged(current: LimitOverride, command: &LimitsCommand) -> LimitOverride {
    let LimitsCommand::Set { max_per_charge, daily, monthly, min_interval_seconds, credit_limit, reset, .. } = command
    else {
        return current;
    };
    let base = if *reset { LimitOverride::default() } else { current };
    let fen = |amount: &Option<Amount>, kept: Option<i64>| amount.map(Amount::minor_units).or(kept);
    LimitOverride {
        max_per_charge_fen: fen(max_per_charge, base.max_per_charge_fen),
        daily_fen: fen(daily, base.daily_fen),
        monthly_fen: fen(monthly, base.monthly_fen),
        min_interval_seconds: min_interval_seconds.map(i64::from).or(base.min_interval_seconds),
        credit_limit_fen: fen(credit_limit, base.credit_limit_fen),
    }
}

fn yuan(fen: i64) -> String {
    Amount::from_minor_units(fen).map(|amount| BILLING_CURRENCY.format(amount)).unwrap_or_else(|_| format!("{fen} fen"))
}

fn limits_line(label: &str, limits: &ChargeLimits) -> String {
    format!(
        "{label} max_per_charge={} daily={} monthly={} min_interval_seconds={} credit_limit={}",
        yuan(limits.max_per_charge_fen),
        yuan(limits.daily_fen),
        yuan(limits.monthly_fen),
        limits.min_interval_seconds,
        yuan(limits.credit_limit_fen)
    )
}

fn own_line(own: &LimitOverride) -> String {
    let show = |value: Option<i64>, money: bool| match value {
        Some(value) if money => yuan(value),
        Some(value) => value.to_string(),
        None => "operator".to_owned(),
    };
    format!(
        "own max_per_charge={} daily={} monthly={} min_interval_seconds={} credit_limit={}",
        show(own.max_per_charge_fen, true),
        show(own.daily_fen, true),
        show(own.monthly_fen, true),
        show(own.min_interval_seconds, false),
        show(own.credit_limit_fen, true)
    )
}

pub(super) async fn limits(client: &AdminClient, command: LimitsCommand) -> anyhow::Result<()> {
    let msisdn = match &command {
        LimitsCommand::Get { msisdn } | LimitsCommand::Set { msisdn, .. } => msisdn.clone(),
    };
    let url = format!("{}/v1/subscribers/{}/charge-limits", client.url, msisdn.as_digits());
    let mut view: ChargeLimitsView = client.send(client.http.get(&url)).await?;
    if let LimitsCommand::Set { .. } = &command {
        let own = merged(view.own, &command);
        view = client.send(client.http.put(&url).json(&own)).await?;
    }
    println!("{}", own_line(&view.own));
    println!("{}", limits_line("in_force", &view.in_force));
    Ok(())
}

pub(super) async fn charges(args: ChargesArgs) -> anyhow::Result<()> {
    let client = AdminClient::new(&args.client)?;
    let mut query: Vec<(&str, String)> = vec![("limit", args.limit.to_string())];
    if let Some(msisdn) = &args.msisdn {
        query.push(("msisdn", msisdn.as_digits().to_owned()));
    }
    if let Some(payment_id) = args.payment_id {
        query.push(("payment_id", payment_id));
    }
    if let Some(month) = args.month {
        query.push(("month", month));
    }
    let list: ChargeRecordList =
        client.send(client.http.get(format!("{}/v1/charges", client.url)).query(&query)).await?;
    for record in &list.records {
        println!(
            "{} {} {} {} {} {} {} bill_line={} reason={}",
            record.local_month,
            record.kind,
            record.payment_id,
            record.refund_id.as_deref().unwrap_or("-"),
            record.msisdn,
            yuan(record.amount_fen),
            record.outcome,
            record.bill_line_id.as_deref().unwrap_or("-"),
            record.decline_reason.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(max_per_charge: Option<&str>, reset: bool) -> LimitsCommand {
        LimitsCommand::Set {
            msisdn: Msisdn::parse("13800138000").unwrap(),
            max_per_charge: max_per_charge.map(|text| parse_yuan(text).unwrap()),
            daily: None,
            monthly: None,
            min_interval_seconds: Some(10),
            credit_limit: None,
            reset,
        }
    }

    #[test]
    fn yuan_parse_exactly_and_never_as_floats() {
        assert_eq!(parse_yuan("5.00").unwrap().minor_units(), 500);
        assert_eq!(parse_yuan("0.1").unwrap().minor_units(), 10);
        for bad in ["5.001", "-1", "1e3", "abc"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_keeps_the_limits_it_does_not_name_unless_reset() {
        let current = LimitOverride { daily_fen: Some(1_000), ..LimitOverride::default() };
        let kept = merged(current, &set(Some("5.00"), false));
        assert_eq!(kept.max_per_charge_fen, Some(500));
        assert_eq!(kept.daily_fen, Some(1_000));
        assert_eq!(kept.min_interval_seconds, Some(10));
        let reset = merged(current, &set(None, true));
        assert_eq!(reset, LimitOverride { min_interval_seconds: Some(10), ..LimitOverride::default() });
    }
}
