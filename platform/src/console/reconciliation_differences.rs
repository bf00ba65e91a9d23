//! The differences section of the console's reconciliation page: every three-way difference of the day by kind
//! (record, payment, masked number, merchant, amounts, time, what differs) with the one repair button that fits
//! its kind; "clean" only when all three sides were read and agree; otherwise the side that could not be read and
//! why, and no verdict.

use super::auth::SignedInOperator;
use super::html::{csrf_field, encode_url_component, escape_html, optional_text, table};
use super::language::localized;
use super::reconciliation::difference_label;
use crate::clients::oss_client::OssDeliveryError;
use crate::clients::smsc_api_client::SmscApiError;
use crate::domain::payment_reconciliation::{DifferenceRepair, PaymentDifference};
use crate::operator_views::payment_differences::SideUnreadable;
use numbind_process::civil_date::CivilDate;

fn side_label(unreadable: &SideUnreadable) -> &'static str {
    match unreadable.side() {
        "oss" => localized("OSS (billing)", "运营支撑系统（计费）"),
        _ => localized("SMS centre", "短信中心"),
    }
}

fn oss_error_in_chinese(error: &OssDeliveryError) -> String {
    match error {
        OssDeliveryError::Transport(_) => "无法连接".to_owned(),
        OssDeliveryError::Refused { status } => format!("对方回答 {status}"),
        OssDeliveryError::UnreadableAnswer(_) => "回答无法解读".to_owned(),
        OssDeliveryError::Encoding(_) => "请求无法编码".to_owned(),
        OssDeliveryError::Paused { seconds_left } => format!("接连无法连接，暂停 {seconds_left} 秒"),
        OssDeliveryError::NoOss { province } => {
            format!("没有为该号码服务的运营支撑系统（省份：{}）", province.map_or("无", |province| province.as_str()))
        }
    }
}

fn smsc_error_in_chinese(error: &SmscApiError) -> String {
    match error {
        SmscApiError::Transport(_) => "无法连接".to_owned(),
        SmscApiError::Refused { status } => format!("对方回答 {status}"),
        SmscApiError::UnreadableAnswer(_) => "回答无法解读".to_owned(),
    }
}

/// Why a side could not be read, in the operator's language.
fn unreadable_text(unreadable: &SideUnreadable) -> String {
    let chinese = match unreadable {
        SideUnreadable::OssNotConfigured => "未配置（--oss-url）".to_owned(),
        SideUnreadable::Oss(error) => format!("账单行无法读取：{}", oss_error_in_chinese(error)),
        SideUnreadable::OssIncomplete => "当日账单行多于一次回答所能列出的数量".to_owned(),
        SideUnreadable::SmscNotConfigured => "未配置（--smsc-api-url、--smsc-address）".to_owned(),
        SideUnreadable::Smsc(error) => format!("已发送短信列表无法读取：{}", smsc_error_in_chinese(error)),
    };
    localized(unreadable.to_string(), chinese)
}

fn amounts_text(difference: &PaymentDifference) -> String {
    let fen = |amount: Option<i64>| amount.map_or_else(|| "–".to_owned(), |fen| format!("{fen}"));
    localized(
        format!(
            "platform {} fen, billing {} fen",
            fen(difference.platform_amount_fen),
            fen(difference.billing_amount_fen)
        ),
        format!("平台 {} 分，计费 {} 分", fen(difference.platform_amount_fen), fen(difference.billing_amount_fen)),
    )
}

/// The repair form of one difference: re-drive billing, re-send the receipt, or adjust with a reason.
fn repair_form(signed_in: &SignedInOperator, day: CivilDate, difference: &PaymentDifference) -> String {
    if !signed_in.is_admin() {
        return String::new();
    }
    let repair = difference.repair;
    let (reason_field, label) = match repair {
        DifferenceRepair::RedriveBilling => (String::new(), localized("Re-drive billing", "重新送计费")),
        DifferenceRepair::ResendReceipt => (String::new(), localized("Re-send receipt", "重发收据")),
        DifferenceRepair::Adjust => (
            format!(
                "<input type=\"hidden\" name=\"difference\" value=\"{kind}\">\
                 <input name=\"reason\" required maxlength=\"200\" placeholder=\"{placeholder}\">",
                kind = difference.kind.as_str(),
                placeholder = localized("reason (audited)", "原因（记入审计）"),
            ),
            localized("Adjust", "调整"),
        ),
    };
    format!(
        "<form method=\"post\" action=\"/console/reconciliation/repair\" class=\"inline difference-repair\">{csrf}\
         <input type=\"hidden\" name=\"day\" value=\"{day}\"><input type=\"hidden\" name=\"record_id\" value=\"{record}\">\
         <input type=\"hidden\" name=\"action\" value=\"{action}\">{reason_field}<button type=\"submit\">{label}</button>\
         </form>",
        csrf = csrf_field(&signed_in.session),
        record = escape_html(&difference.record_id),
        action = repair.api_action(),
    )
}

fn differences_table(signed_in: &SignedInOperator, day: CivilDate, differences: &[PaymentDifference]) -> String {
    let rows: Vec<Vec<String>> = differences
        .iter()
        .map(|difference| {
            vec![
                escape_html(difference_label(difference.kind.as_str())),
                escape_html(&difference.record_id),
                format!(
                    "<a href=\"/console/payments/{0}\">{1}</a>",
                    encode_url_component(&difference.payment_id),
                    escape_html(&difference.payment_id)
                ),
                optional_text(difference.msisdn_masked.as_deref()),
                optional_text(difference.merchant_id.as_deref()),
                escape_html(&amounts_text(difference)),
                escape_html(&difference.at),
                escape_html(&difference.detail),
                repair_form(signed_in, day, difference),
            ]
        })
        .collect();
    let headers = localized(
        ["Difference", "Record", "Payment", "Number", "Merchant", "Amounts", "At (UTC+8)", "Detail", "Repair"],
        ["差异", "记录", "支付", "号码", "商户", "金额", "时间（UTC+8）", "说明", "修复"],
    );
    table(&headers, &rows)
}

/// The section: the differences with their repairs, "clean", or the sides that could not be read.
pub(super) fn differences_section(
    signed_in: &SignedInOperator,
    day: CivilDate,
    differences: &Result<Vec<PaymentDifference>, Vec<SideUnreadable>>,
) -> String {
    let title = localized(
        format!("Differences of {day}: platform, billing and SMS centre"),
        format!("{day} 的差异：平台、计费与短信中心"),
    );
    let content = match differences {
        Ok(differences) if differences.is_empty() => format!(
            "<p class=\"notice\" id=\"reconciliation-clean\">{}</p>",
            localized(
                "Clean: the platform's ledger, the OSS's bill lines and the SMS centre's receipts agree.",
                "无差异：平台台账、运营支撑系统的账单行与短信中心的收据一致。"
            )
        ),
        Ok(differences) => format!(
            "<p class=\"error\" id=\"reconciliation-differences\">{}</p>{}",
            localized(format!("{} difference(s).", differences.len()), format!("{} 项差异。", differences.len())),
            differences_table(signed_in, day, differences)
        ),
        Err(unreadable) => {
            let items: String = unreadable
                .iter()
                .map(|side| format!("<li>{}: {}</li>", side_label(side), escape_html(&unreadable_text(side))))
                .collect();
            format!(
                "<div class=\"card danger\" id=\"reconciliation-incomplete\"><p class=\"error\">{}</p><ul>{items}</ul></div>",
                localized(
                    "Not compared: a side could not be read, so no verdict is given.",
                    "未能比对：有一方无法读取，因此不作结论。"
                )
            )
        }
    };
    format!("<section id=\"differences\"><h2>{title}</h2>{content}</section>")
}
