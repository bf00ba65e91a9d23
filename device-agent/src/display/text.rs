//! The localised text table (Simplified Chinese and English) of every message the box shows.

use crate::config::Language;
use numbind_wire::api::CancellationReason;
use numbind_wire::statement::DenialReason;
use numbind_wire::{Amount, Currency};

/// A message the box shows, with the values it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message<'a> {
    /// The terminal's ID.
    TerminalId { terminal_id: &'a str },
    /// The terminal's public key (base64url).
    PublicKey { public_key: &'a str },
    /// The code to send, grouped for reading.
    Code { code: &'a str },
    /// What to text, and where.
    SendSms { sms_text: &'a str, short_code: &'a str },
    /// Scan the QR code to open the SMS composer.
    ScanQrCode,
    /// The code lives this many more minutes.
    CodeExpiresInMinutes { minutes: i64 },
    /// The binding is on (just now).
    Bound { msisdn_masked: &'a str },
    /// The binding was on already.
    AlreadyBound { msisdn_masked: &'a str },
    /// The binding was refused.
    Denied { reason: DenialReason },
    /// The code expired; a new one follows.
    Expired,
    /// Something failed; retrying after some seconds.
    Retrying { seconds: u64 },
    /// The terminal is not bound.
    Unbound,
    /// The factory reset is done.
    ResetDone,
    /// What the local flag says before the platform is asked.
    LocalFlag { bound: bool },
    /// A purchase was signed and handed to the merchant.
    PurchaseStarted { item_description: &'a str, amount: Amount, currency: Currency },
    /// The merchant has not submitted the purchase yet.
    PurchaseWaitingForMerchant,
    /// The bound phone must reply `Y <number>`; the confirmation lives this many more minutes, when known.
    PurchaseConfirmBySms { minutes: Option<i64> },
    /// The bound number is being charged.
    PurchaseProcessing,
    /// Paid.
    PurchaseSucceeded { payment_id: &'a str },
    /// Refused, with the words of the reason (`PaymentDenialReason::words`).
    PurchaseDenied { words: &'a str },
    /// Cancelled, and why.
    PurchaseCancelled { reason: CancellationReason },
    /// Not confirmed (or not submitted) in time.
    PurchaseExpired,
}

/// The text of `message` in `language`.
pub fn localise(language: Language, message: &Message<'_>) -> String {
    match language {
        Language::Zh => chinese(message),
        Language::En => english(message),
    }
}

fn chinese(message: &Message<'_>) -> String {
    match *message {
        Message::TerminalId { terminal_id } => format!("终端编号：{terminal_id}"),
        Message::PublicKey { public_key } => format!("终端公钥：{public_key}"),
        Message::Code { code } => format!("开通码：{code}"),
        Message::SendSms { sms_text, short_code } => format!("请用付费手机发送短信“{sms_text}”到 {short_code}"),
        Message::ScanQrCode => "或用手机扫描下方二维码，直接打开短信编辑".to_owned(),
        Message::CodeExpiresInMinutes { minutes } => format!("开通码 {minutes} 分钟内有效"),
        Message::Bound { msisdn_masked } => format!("已开通号码代付：{msisdn_masked}"),
        Message::AlreadyBound { msisdn_masked } => format!("本机已开通号码代付：{msisdn_masked}"),
        Message::Denied { reason } => format!("开通未成功：{}", chinese_denial(reason)),
        Message::Expired => "开通码已过期，正在获取新的开通码".to_owned(),
        Message::Retrying { seconds } => format!("网络繁忙，{seconds} 秒后重试"),
        Message::Unbound => "本机尚未开通号码代付".to_owned(),
        Message::ResetDone => "已恢复出厂设置，号码代付已解除".to_owned(),
        Message::LocalFlag { bound: true } => "本地记录：已开通".to_owned(),
        Message::LocalFlag { bound: false } => "本地记录：未开通".to_owned(),
        Message::PurchaseStarted { item_description, amount, currency } => {
            format!("购买：{item_description}，金额 {}", currency.format(amount))
        }
        Message::PurchaseWaitingForMerchant => "正在等待商户提交订单".to_owned(),
        Message::PurchaseConfirmBySms { minutes } => format!(
            "请用绑定的手机回复短信“Y 确认码”确认支付（确认码见手机收到的短信）{}",
            minutes.map(|minutes| format!("，{minutes} 分钟内有效")).unwrap_or_default()
        ),
        Message::PurchaseProcessing => "正在从绑定的号码扣费".to_owned(),
        Message::PurchaseSucceeded { payment_id } => format!("支付成功（{payment_id}），收据将以短信发送到绑定的手机"),
        Message::PurchaseDenied { words } => format!("支付未成功：{words}"),
        Message::PurchaseCancelled { reason } => format!("支付已取消：{}", chinese_cancellation(reason)),
        Message::PurchaseExpired => "支付已过期：未在规定时间内完成".to_owned(),
    }
}

fn chinese_cancellation(reason: CancellationReason) -> &'static str {
    match reason {
        CancellationReason::DeclinedByUser => "绑定的手机回复了拒绝",
        CancellationReason::ConfirmationAttemptsExhausted => "确认码错误次数过多",
        CancellationReason::Unbound => "本机已解除号码绑定",
        CancellationReason::CancelledByMerchant => "商户取消了订单",
        _ => "订单被取消",
    }
}

fn chinese_denial(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::UnknownSubscriber => "该号码不是本网用户",
        DenialReason::SubscriberSuspended => "该号码已停机",
        DenialReason::SubscriberBlacklisted => "该号码不能办理此业务",
        DenialReason::SubscriberCancelled => "该号码已销户",
        DenialReason::DeviceLimitReached => "该号码代付的终端数量已达上限",
        DenialReason::BillingNotAllowed => "该号码不支持代付",
        _ => "运营商拒绝了本次开通",
    }
}

fn english(message: &Message<'_>) -> String {
    match *message {
        Message::TerminalId { terminal_id } => format!("Terminal ID: {terminal_id}"),
        Message::PublicKey { public_key } => format!("Public key: {public_key}"),
        Message::Code { code } => format!("Activation code: {code}"),
        Message::SendSms { sms_text, short_code } => {
            format!("From the phone that will pay, send the SMS \"{sms_text}\" to {short_code}")
        }
        Message::ScanQrCode => "Or scan the QR code below to open your SMS app with the text filled in".to_owned(),
        Message::CodeExpiresInMinutes { minutes } => format!("The code expires in {minutes} min"),
        Message::Bound { msisdn_masked } => format!("Billing bound to number: {msisdn_masked}"),
        Message::AlreadyBound { msisdn_masked } => format!("This box is already bound to number: {msisdn_masked}"),
        Message::Denied { reason } => format!("Binding refused: {}", english_denial(reason)),
        Message::Expired => "The code expired; getting a new one".to_owned(),
        Message::Retrying { seconds } => format!("The network is busy; retrying in {seconds} s"),
        Message::Unbound => "This box is not bound to a number".to_owned(),
        Message::ResetDone => "Factory reset done; the number binding is removed".to_owned(),
        Message::LocalFlag { bound: true } => "Local flag: bound".to_owned(),
        Message::LocalFlag { bound: false } => "Local flag: not bound".to_owned(),
        Message::PurchaseStarted { item_description, amount, currency } => {
            format!("Buying {item_description} for {} {}", amount.to_decimal(currency), currency.code())
        }
        Message::PurchaseWaitingForMerchant => "Waiting for the merchant to submit the order".to_owned(),
        Message::PurchaseConfirmBySms { minutes } => format!(
            "Reply Y <number> from the bound phone to pay (the number is in the SMS it received){}",
            minutes.map(|minutes| format!("; within {minutes} min")).unwrap_or_default()
        ),
        Message::PurchaseProcessing => "Charging the bound number".to_owned(),
        Message::PurchaseSucceeded { payment_id } => {
            format!("Paid ({payment_id}); the receipt goes to the bound phone by SMS")
        }
        Message::PurchaseDenied { words } => format!("Payment refused: {words}"),
        Message::PurchaseCancelled { reason } => format!("Payment cancelled: {}", english_cancellation(reason)),
        Message::PurchaseExpired => "The payment expired: it was not completed in time".to_owned(),
    }
}

fn english_cancellation(reason: CancellationReason) -> &'static str {
    match reason {
        CancellationReason::DeclinedByUser => "the bound phone said no",
        CancellationReason::ConfirmationAttemptsExhausted => "too many wrong confirmation numbers",
        CancellationReason::Unbound => "this box is no longer bound to a number",
        CancellationReason::CancelledByMerchant => "the merchant cancelled the order",
        _ => "the order was cancelled",
    }
}

fn english_denial(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::UnknownSubscriber => "this number is not a subscriber of the operator",
        DenialReason::SubscriberSuspended => "this number is suspended",
        DenialReason::SubscriberBlacklisted => "this number may not use the service",
        DenialReason::SubscriberCancelled => "this number is cancelled",
        DenialReason::DeviceLimitReached => "this number already pays for the most devices allowed",
        DenialReason::BillingNotAllowed => "this number cannot pay for devices",
        _ => "the operator refused the binding",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_DENIAL_REASON: [DenialReason; 6] = [
        DenialReason::UnknownSubscriber,
        DenialReason::SubscriberSuspended,
        DenialReason::SubscriberBlacklisted,
        DenialReason::SubscriberCancelled,
        DenialReason::DeviceLimitReached,
        DenialReason::BillingNotAllowed,
    ];

    fn every_message() -> Vec<Message<'static>> {
        let mut messages = vec![
            Message::TerminalId { terminal_id: "NB-0123456789ABCDEF" },
            Message::PublicKey { public_key: "AAAA" },
            Message::Code { code: "WDJB-MJHT" },
            Message::SendSms { sms_text: "BIND WDJBMJHT", short_code: "10658000" },
            Message::ScanQrCode,
            Message::CodeExpiresInMinutes { minutes: 10 },
            Message::Bound { msisdn_masked: "138****8000" },
            Message::AlreadyBound { msisdn_masked: "138****8000" },
            Message::Expired,
            Message::Retrying { seconds: 3 },
            Message::Unbound,
            Message::ResetDone,
            Message::LocalFlag { bound: true },
            Message::LocalFlag { bound: false },
            Message::PurchaseStarted {
                item_description: "Film",
                amount: Amount::from_minor_units(500).unwrap(),
                currency: Currency::Cny,
            },
            Message::PurchaseWaitingForMerchant,
            Message::PurchaseConfirmBySms { minutes: Some(5) },
            Message::PurchaseConfirmBySms { minutes: None },
            Message::PurchaseProcessing,
            Message::PurchaseSucceeded { payment_id: "pay-1" },
            Message::PurchaseDenied { words: "too soon" },
            Message::PurchaseCancelled { reason: CancellationReason::DeclinedByUser },
            Message::PurchaseExpired,
        ];
        messages.extend(EVERY_DENIAL_REASON.map(|reason| Message::Denied { reason }));
        messages
    }

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|character| ('\u{4e00}'..='\u{9fff}').contains(&character))
    }

    #[test]
    fn both_languages_have_every_message_and_they_differ() {
        for message in every_message() {
            let chinese = localise(Language::Zh, &message);
            let english = localise(Language::En, &message);
            assert!(has_chinese(&chinese), "{message:?} has no Chinese text: {chinese}");
            assert!(!english.is_empty() && english.is_ascii(), "{message:?} has no English text: {english}");
        }
    }

    #[test]
    fn every_denial_reason_has_its_own_text_in_both_languages() {
        for language in Language::ALL {
            let texts: std::collections::HashSet<_> =
                EVERY_DENIAL_REASON.map(|reason| localise(language, &Message::Denied { reason })).into_iter().collect();
            assert_eq!(texts.len(), EVERY_DENIAL_REASON.len(), "{language:?}");
        }
    }

    #[test]
    fn the_confirmation_prompt_says_to_reply_y_and_the_number_from_the_bound_phone() {
        let english = localise(Language::En, &Message::PurchaseConfirmBySms { minutes: Some(5) });
        assert!(english.contains("Reply Y <number> from the bound phone") && english.contains("5 min"), "{english}");
        assert!(localise(Language::Zh, &Message::PurchaseConfirmBySms { minutes: None }).contains("回复短信“Y 确认码”"));
        let started = Message::PurchaseStarted {
            item_description: "《流浪地球》高清",
            amount: Amount::from_minor_units(500).unwrap(),
            currency: Currency::Cny,
        };
        assert!(localise(Language::Zh, &started).contains("¥5.00"));
    }

    #[test]
    fn the_bound_message_names_the_masked_number_as_specified() {
        assert_eq!(
            localise(Language::Zh, &Message::Bound { msisdn_masked: "138****8000" }),
            "已开通号码代付：138****8000"
        );
        let values = Message::SendSms { sms_text: "BIND WDJBMJHT", short_code: "10658000" };
        for language in Language::ALL {
            let text = localise(language, &values);
            assert!(text.contains("BIND WDJBMJHT") && text.contains("10658000"), "{text}");
        }
    }
}
