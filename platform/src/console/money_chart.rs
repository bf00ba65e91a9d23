//! The money chart: charges and refunds per merchant for each of the seven billing days (China Standard Time)
//! ending at a day, summed from the platform's ledger and drawn as an inline SVG bar chart like the activity chart.

use super::html::escape_html;
use super::language::localized;
use crate::store::{Store, StoreError};
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;
use std::collections::BTreeMap;

/// Days drawn.
pub(crate) const CHART_DAYS: i64 = 7;

/// Charged and refunded fen of one merchant on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MoneyTotals {
    pub charged_fen: i64,
    pub refunded_fen: i64,
}

/// Per day (oldest first): the day and merchant → totals.
pub(crate) type MoneyByDay = Vec<(CivilDate, BTreeMap<String, MoneyTotals>)>;

/// The totals of the seven days ending at `last_day`.
pub(crate) fn money_by_day(store: &Store, last_day: CivilDate) -> Result<MoneyByDay, StoreError> {
    let (last_start, _) = last_day.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
    let mut days = Vec::new();
    for back in (0..CHART_DAYS).rev() {
        let day = CivilDate::of(last_start - back * 86_400, CHINA_STANDARD_TIME_OFFSET_SECONDS);
        let (start, end) = day.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
        let mut totals: BTreeMap<String, MoneyTotals> = BTreeMap::new();
        for entry in store.payment_ledger(start, end, &day.to_string())?.entries {
            let merchant = totals.entry(entry.merchant_id).or_default();
            match entry.kind {
                "refund" => merchant.refunded_fen += entry.amount_fen,
                _ => merchant.charged_fen += entry.amount_fen,
            }
        }
        days.push((day, totals));
    }
    Ok(days)
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 220;
const TOP: i64 = 20;
const BOTTOM: i64 = 190;
const LEFT: i64 = 60;

/// The SVG: per day, two bars per merchant (charged, refunded), each titled with the merchant and the amount.
pub(crate) fn money_svg(days: &MoneyByDay) -> String {
    let merchants: Vec<&String> = {
        let mut names: Vec<&String> = days.iter().flat_map(|(_, totals)| totals.keys()).collect();
        names.sort();
        names.dedup();
        names
    };
    let highest = days
        .iter()
        .flat_map(|(_, totals)| totals.values().map(|money| money.charged_fen.max(money.refunded_fen)))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (WIDTH - LEFT - 10) / days.len().max(1) as i64;
    let bar_width = ((slot - 6) / (2 * merchants.len().max(1) as i64)).max(1);
    let height_of = |fen: i64| fen * (BOTTOM - TOP) / highest;
    let mut svg = format!(
        "<svg class=\"chart\" id=\"money-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{aria_label}\">\
         <line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{WIDTH}\" y2=\"{BOTTOM}\" class=\"axis\"/>\
         <text x=\"{x}\" y=\"{top}\" class=\"scale\" text-anchor=\"end\">¥{yuan:.2}</text>\
         <text x=\"{x}\" y=\"{BOTTOM}\" class=\"scale\" text-anchor=\"end\">0</text>",
        x = LEFT - 4,
        top = TOP + 8,
        yuan = highest as f64 / 100.0,
        aria_label = localized("charges and refunds per merchant and day", "各商户每日的扣费与退款"),
    );
    let charged = localized("fen charged", "分已扣费");
    let refunded = localized("fen refunded", "分已退款");
    for (index, (day, totals)) in days.iter().enumerate() {
        let left = LEFT + 2 + index as i64 * slot;
        for (position, merchant) in merchants.iter().enumerate() {
            let money = totals.get(*merchant).copied().unwrap_or_default();
            let merchant_text = escape_html(merchant);
            for (offset, fen, class, what) in
                [(0, money.charged_fen, "issued", charged), (bar_width, money.refunded_fen, "refused", refunded)]
            {
                let height = height_of(fen);
                svg.push_str(&format!(
                    "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{bar_width}\" height=\"{height}\">\
                     <title>{day} {merchant_text}: {fen} {what}</title></rect>",
                    left + position as i64 * 2 * bar_width + offset,
                    BOTTOM - height,
                ));
            }
        }
        svg.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\" class=\"label\">{}</text>",
            BOTTOM + 14,
            &day.to_string()[5..]
        ));
    }
    svg.push_str(&format!(
        "<rect class=\"issued\" x=\"480\" y=\"4\" width=\"10\" height=\"10\"/>\
         <text x=\"494\" y=\"13\" class=\"label\">{}</text>\
         <rect class=\"refused\" x=\"580\" y=\"4\" width=\"10\" height=\"10\"/>\
         <text x=\"594\" y=\"13\" class=\"label\">{}</text></svg>",
        localized("charged", "扣费"),
        localized("refunded", "退款"),
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_merchant_has_a_charge_and_a_refund_bar_per_day_titled_with_its_amount() {
        let day = CivilDate::parse("2026-12-07").unwrap();
        let mut totals = BTreeMap::new();
        totals.insert("films".to_owned(), MoneyTotals { charged_fen: 500, refunded_fen: 200 });
        totals.insert("<games>".to_owned(), MoneyTotals { charged_fen: 100, refunded_fen: 0 });
        let days: MoneyByDay = vec![(day, totals), (CivilDate::parse("2026-12-08").unwrap(), BTreeMap::new())];
        let svg = money_svg(&days);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect class=\"issued\"").count(),
            2 * 2 + 1,
            "two merchants on two days, and the legend"
        );
        assert!(svg.contains("2026-12-07 films: 500 fen charged") && svg.contains("200 fen refunded"));
        assert!(svg.contains("&lt;games&gt;") && !svg.contains("<games>"), "merchant names are escaped");
    }

    #[test]
    fn the_chart_sums_the_ledger_of_seven_days() {
        let store = Store::open_in_memory().unwrap();
        let days = money_by_day(&store, CivilDate::parse("2026-12-07").unwrap()).unwrap();
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].0.to_string(), "2026-12-01");
        assert_eq!(days[6].0.to_string(), "2026-12-07");
    }
}
