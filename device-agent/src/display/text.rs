//! The localised text table (Simplified Chinese and English) of every message the box shows.

use super::reasons::{
    chinese_cancellation, chinese_check, chinese_denial, chinese_failure, chinese_what_next, english_cancellation,
    english_check, english_denial, english_failure, english_what_next,
};
use crate::config::Language;
use crate::domain::connection::ConnectionFailure;
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
    /// The platform gave no answer: what failed, where, and what to check. `plainly` after a few failures in a
    /// row, when the screen says it cannot reach the platform instead of that it is trying.
    PlatformUnreachable { url: &'a str, failure: ConnectionFailure, plainly: bool, seconds: u64 },
    /// The code is waiting for its SMS; it lives this much longer.
    WaitingForSms { seconds_left: i64 },
    /// A code replaces an earlier one on the screen.
    NewCode,
    /// What the user can do after a refusal.
    DeniedWhatNext { reason: DenialReason },
    /// A watch started, on a box bound to this number (or not bound).
    Watching { msisdn_masked: Option<&'a str> },
    /// The flag said bound and the platform says unbound: what changed, in one sentence.
    UnboundSinceLastCheck,
    /// A watch saw the box bound (to another number than before, or where it was not bound).
    BindingChanged { msisdn_masked: &'a str },
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
        Message::PlatformUnreachable { url, failure, plainly: false, seconds } => {
            format!("正在连接服务平台 {url}：{}，{seconds} 秒后重试", chinese_failure(failure))
        }
        Message::PlatformUnreachable { url, failure, plainly: true, seconds } => format!(
            "无法连接服务平台 {url}：{}。请检查{}；{seconds} 秒后重试",
            chinese_failure(failure),
            chinese_check(failure)
        ),
        Message::WaitingForSms { seconds_left } => {
            format!("正在等待短信，开通码还有 {} 分 {} 秒过期", seconds_left.max(0) / 60, seconds_left.max(0) % 60)
        }
        Message::NewCode => "新的开通码如下，旧的开通码已不能使用".to_owned(),
        Message::DeniedWhatNext { reason } => chinese_what_next(reason).to_owned(),
        Message::Watching { msisdn_masked: Some(msisdn_masked) } => {
            format!("正在守候本机的号码代付（{msisdn_masked}），有变化时立即显示")
        }
        Message::Watching { msisdn_masked: None } => "正在守候本机的号码代付（尚未开通），有变化时立即显示".to_owned(),
        Message::UnboundSinceLastCheck => "本机自上次检查后已解除号码代付，付费服务已停用".to_owned(),
        Message::BindingChanged { msisdn_masked } => format!("本机现已开通号码代付：{msisdn_masked}"),
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
        Message::PlatformUnreachable { url, failure, plainly: false, seconds } => {
            format!(
                "Connecting to the service platform at {url}: {}; retrying in {seconds} s",
                english_failure(failure)
            )
        }
        Message::PlatformUnreachable { url, failure, plainly: true, seconds } => format!(
            "Cannot reach the service platform at {url}: {}. Check {}; retrying in {seconds} s",
            english_failure(failure),
            english_check(failure)
        ),
        Message::WaitingForSms { seconds_left } => format!(
            "Waiting for the SMS; the code expires in {} min {:02} s",
            seconds_left.max(0) / 60,
            seconds_left.max(0) % 60
        ),
        Message::NewCode => "A new code: the old code can no longer be used".to_owned(),
        Message::DeniedWhatNext { reason } => english_what_next(reason).to_owned(),
        Message::Watching { msisdn_masked: Some(msisdn_masked) } => {
            format!("Watching this box's binding ({msisdn_masked}); any change shows here at once")
        }
        Message::Watching { msisdn_masked: None } => {
            "Watching this box's binding (not bound); any change shows here at once".to_owned()
        }
        Message::UnboundSinceLastCheck => {
            "This box was unbound since it last checked; billed services are off".to_owned()
        }
        Message::BindingChanged { msisdn_masked } => {
            format!("This box is now bound to number: {msisdn_masked}")
        }
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
            Message::WaitingForSms { seconds_left: 575 },
            Message::NewCode,
            Message::Watching { msisdn_masked: Some("138****8000") },
            Message::Watching { msisdn_masked: None },
            Message::UnboundSinceLastCheck,
            Message::BindingChanged { msisdn_masked: "138****8000" },
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
        messages.extend(EVERY_DENIAL_REASON.map(|reason| Message::DeniedWhatNext { reason }));
        for plainly in [false, true] {
            messages.push(Message::PlatformUnreachable {
                url: "https://platform.example.net",
                failure: ConnectionFailure::ConnectionRefused,
                plainly,
                seconds: 16,
            });
        }
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
    fn an_unreachable_platform_is_named_with_what_failed_and_what_to_check() {
        let plain = Message::PlatformUnreachable {
            url: "https://10.0.0.9:8080",
            failure: ConnectionFailure::ConnectionRefused,
            plainly: true,
            seconds: 16,
        };
        assert_eq!(
            localise(Language::En, &plain),
            "Cannot reach the service platform at https://10.0.0.9:8080: connection refused. Check the box's \
             network and the platform address; retrying in 16 s"
        );
        let trying = Message::PlatformUnreachable {
            url: "https://platform.invalid",
            failure: ConnectionFailure::NameNotFound,
            plainly: false,
            seconds: 1,
        };
        let text = localise(Language::Zh, &trying);
        assert!(text.contains("https://platform.invalid") && text.contains("找不到该域名"), "{text}");
        assert_eq!(
            localise(Language::En, &Message::WaitingForSms { seconds_left: 575 }),
            "Waiting for the SMS; the code expires in 9 min 35 s"
        );
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
