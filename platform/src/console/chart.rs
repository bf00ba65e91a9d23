//! The activity chart: activations issued and refusals per hour or per day, counted from the audit log and drawn
//! as an inline SVG bar chart on the server (no script, no external asset).

use super::html::escape_html;
use super::language::localized;
use crate::store::{AuditRecord, Store, StoreError};
use numbind_process::clock::civil_from_days;

/// Audit event kinds counted as activations issued.
pub(crate) const ISSUED_KINDS: &[&str] = &["activation_issued"];
/// Audit event kinds counted as refusals (a code refused, or the subscriber refused by the OSS).
pub(crate) const REFUSED_KINDS: &[&str] = &["code_refused", "activation_denied"];
/// Most events read for one chart; a busier window is drawn from its first events only, and says so.
pub(crate) const MAX_CHART_EVENTS: usize = 200_000;
const PAGE_ROWS: i64 = 5_000;

/// The chart's time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChartPeriod {
    /// The last 24 hours, per hour.
    Hours,
    /// The last 14 days, per day.
    Days,
}

impl ChartPeriod {
    pub(crate) fn parse(text: Option<&str>) -> Option<Self> {
        match text.map(str::trim) {
            None | Some("" | "hours") => Some(ChartPeriod::Hours),
            Some("days") => Some(ChartPeriod::Days),
            Some(_) => None,
        }
    }

    pub(crate) fn bucket_seconds(self) -> i64 {
        match self {
            ChartPeriod::Hours => 3600,
            ChartPeriod::Days => 86_400,
        }
    }

    pub(crate) fn bucket_count(self) -> usize {
        match self {
            ChartPeriod::Hours => 24,
            ChartPeriod::Days => 14,
        }
    }

    /// The window `[start, end)` ending at the boundary after `now`.
    pub(crate) fn window(self, now: i64) -> (i64, i64) {
        let size = self.bucket_seconds();
        let end = (now.div_euclid(size) + 1) * size;
        (end - size * self.bucket_count() as i64, end)
    }
}

/// Counts in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BucketCounts {
    pub issued: u64,
    pub refused: u64,
}

/// The counted window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActivityCounts {
    pub period: ChartPeriod,
    pub window_start: i64,
    pub buckets: Vec<BucketCounts>,
    /// The window held more than `MAX_CHART_EVENTS` events.
    pub truncated: bool,
}

/// Adds the events inside the window to their buckets.
pub(crate) fn count_into_buckets(counts: &mut ActivityCounts, events: &[AuditRecord]) {
    let size = counts.period.bucket_seconds();
    for event in events {
        let offset = event.at - counts.window_start;
        let Ok(index) = usize::try_from(offset.div_euclid(size)) else { continue };
        let Some(bucket) = counts.buckets.get_mut(index) else { continue };
        if ISSUED_KINDS.contains(&event.kind.as_str()) {
            bucket.issued += 1;
        } else if REFUSED_KINDS.contains(&event.kind.as_str()) {
            bucket.refused += 1;
        }
    }
}

/// The sequence after which the first event at or after `since` lies (events are appended in time order).
fn sequence_before(store: &Store, since: i64) -> Result<i64, StoreError> {
    let first_after = |sequence: i64| -> Result<Option<AuditRecord>, StoreError> {
        Ok(store.audit_events_after(sequence, 1)?.into_iter().next())
    };
    let (mut low, mut high) = (0_i64, 1_i64);
    // Gallop until the event after `high` is in the window (or there is none), then bisect.
    while first_after(high)?.is_some_and(|event| event.at < since) {
        low = high;
        high = high.saturating_mul(2);
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if first_after(middle)?.is_some_and(|event| event.at < since) {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(if first_after(low)?.is_some_and(|event| event.at < since) { high } else { low })
}

/// Reads the window's events from the store (blocking) and counts them.
pub(crate) fn count_activity(store: &Store, period: ChartPeriod, now: i64) -> Result<ActivityCounts, StoreError> {
    let (window_start, window_end) = period.window(now);
    let mut counts = ActivityCounts {
        period,
        window_start,
        buckets: vec![BucketCounts::default(); period.bucket_count()],
        truncated: false,
    };
    let mut after = sequence_before(store, window_start)?;
    let mut read = 0_usize;
    loop {
        let page = store.audit_events_after(after, PAGE_ROWS)?;
        count_into_buckets(&mut counts, &page);
        read += page.len();
        let Some(last) = page.last() else { break };
        after = last.sequence;
        if page.len() < PAGE_ROWS as usize || last.at >= window_end {
            break;
        }
        if read >= MAX_CHART_EVENTS {
            counts.truncated = true;
            break;
        }
    }
    Ok(counts)
}

fn bucket_label(period: ChartPeriod, bucket_start: i64) -> String {
    match period {
        ChartPeriod::Hours => format!("{:02}h", bucket_start.rem_euclid(86_400) / 3600),
        ChartPeriod::Days => {
            let (_, month, day) = civil_from_days(bucket_start.div_euclid(86_400));
            format!("{month:02}-{day:02}")
        }
    }
}

const CHART_WIDTH: i64 = 720;
const CHART_HEIGHT: i64 = 220;
const PLOT_TOP: i64 = 20;
const PLOT_BOTTOM: i64 = 190;
const PLOT_LEFT: i64 = 40;

/// The chart as an inline SVG: two bars per bucket (issued, refused), a y scale, labels and a legend.
pub(crate) fn activity_svg(counts: &ActivityCounts) -> String {
    let highest = counts.buckets.iter().map(|bucket| bucket.issued.max(bucket.refused)).max().unwrap_or(0).max(1);
    let slot = (CHART_WIDTH - PLOT_LEFT - 10) / counts.buckets.len().max(1) as i64;
    let bar_width = (slot / 2 - 2).max(1);
    let plot_height = PLOT_BOTTOM - PLOT_TOP;
    let bar_height = |count: u64| (count as i64 * plot_height) / highest as i64;
    let mut svg = format!(
        "<svg class=\"chart\" id=\"activity-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {CHART_WIDTH} \
         {CHART_HEIGHT}\" role=\"img\" aria-label=\"{aria_label}\">\
         <line x1=\"{PLOT_LEFT}\" y1=\"{PLOT_BOTTOM}\" x2=\"{CHART_WIDTH}\" y2=\"{PLOT_BOTTOM}\" class=\"axis\"/>\
         <text x=\"{x}\" y=\"{top}\" class=\"scale\" text-anchor=\"end\">{highest}</text>\
         <text x=\"{x}\" y=\"{PLOT_BOTTOM}\" class=\"scale\" text-anchor=\"end\">0</text>",
        x = PLOT_LEFT - 4,
        top = PLOT_TOP + 8,
        aria_label = localized("activations issued and refusals", "发出的激活码与拒绝"),
    );
    let label_every = if counts.buckets.len() > 14 { 3 } else { 1 };
    for (index, bucket) in counts.buckets.iter().enumerate() {
        let left = PLOT_LEFT + 2 + index as i64 * slot;
        let start = counts.window_start + index as i64 * counts.period.bucket_seconds();
        let label = escape_html(&bucket_label(counts.period, start));
        for (offset, count, class, what) in [
            (0, bucket.issued, "issued", localized("issued", "次发码")),
            (bar_width + 1, bucket.refused, "refused", localized("refused", "次拒绝")),
        ] {
            let height = bar_height(count);
            svg.push_str(&format!(
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{bar_width}\" height=\"{height}\">\
                 <title>{label}: {count} {what}</title></rect>",
                left + offset,
                PLOT_BOTTOM - height,
            ));
        }
        if index.is_multiple_of(label_every) {
            svg.push_str(&format!("<text x=\"{left}\" y=\"{}\" class=\"label\">{label}</text>", PLOT_BOTTOM + 14));
        }
    }
    svg.push_str(&format!(
        "<rect class=\"issued\" x=\"480\" y=\"4\" width=\"10\" height=\"10\"/>\
         <text x=\"494\" y=\"13\" class=\"label\">{issued_label}</text>\
         <rect class=\"refused\" x=\"610\" y=\"4\" width=\"10\" height=\"10\"/>\
         <text x=\"624\" y=\"13\" class=\"label\">{refused_label}</text></svg>",
        issued_label = localized("activations issued", "发出的激活码"),
        refused_label = localized("refusals", "拒绝"),
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditEvent;

    fn record(at: i64, kind: &str) -> AuditRecord {
        AuditRecord {
            sequence: 0,
            at,
            actor: "oss".into(),
            kind: kind.into(),
            terminal_id: None,
            msisdn_masked: None,
            activation_id: None,
            binding_id: None,
            message_id: None,
            detail: None,
            hash: String::new(),
        }
    }

    #[test]
    fn events_fall_into_their_hour_and_others_are_ignored() {
        let now = 100 * 3600 + 10;
        let (start, end) = ChartPeriod::Hours.window(now);
        assert_eq!((start, end), (77 * 3600, 101 * 3600));
        let mut counts = ActivityCounts {
            period: ChartPeriod::Hours,
            window_start: start,
            buckets: vec![BucketCounts::default(); 24],
            truncated: false,
        };
        let events = [
            record(now, "activation_issued"),
            record(now, "code_refused"),
            record(now - 3600, "activation_denied"),
            record(now, "binding_created"),
            record(start - 1, "activation_issued"),
        ];
        count_into_buckets(&mut counts, &events);
        assert_eq!(counts.buckets[23], BucketCounts { issued: 1, refused: 1 });
        assert_eq!(counts.buckets[22], BucketCounts { issued: 0, refused: 1 });
        assert_eq!(counts.buckets.iter().map(|bucket| bucket.issued).sum::<u64>(), 1);
    }

    #[test]
    fn the_store_scan_starts_at_the_window() {
        let store = Store::open_in_memory().unwrap();
        for hour in 0..60_i64 {
            store.append_audit_event(hour * 3600, &AuditEvent::new("terminal", "activation_issued")).unwrap();
        }
        let counts = count_activity(&store, ChartPeriod::Hours, 59 * 3600).unwrap();
        assert_eq!(counts.buckets.iter().map(|bucket| bucket.issued).sum::<u64>(), 24);
        assert!(sequence_before(&store, 36 * 3600).unwrap() >= 30);
        let svg = activity_svg(&counts);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.matches("class=\"issued\"").count() == 25);
    }

    #[test]
    fn periods_parse_from_their_names() {
        assert_eq!(ChartPeriod::parse(None), Some(ChartPeriod::Hours));
        assert_eq!(ChartPeriod::parse(Some("days")), Some(ChartPeriod::Days));
        assert_eq!(ChartPeriod::parse(Some("weeks")), None);
    }
}
