//! Every SMS text the OSS sends a user about bindings and payment answers, in Chinese, prefixed `【numbind】`. One
//! function per situation; the self-service commands' replies (and the help) are in `self_service_replies`.

use numbind_wire::statement::DenialReason;

const PREFIX: &str = "【numbind】";
/// A device model comes from the platform; a long one is cut so the reply stays one SMS where it can.
const MAX_MODEL_CHARS: usize = 20;

/// A terminal named in a reply: its model and the last four characters of its ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMention {
    pub device_model: String,
    pub terminal_tail: String,
}

fn reply(body: &str) -> String {
    format!("{PREFIX}{body}")
}

pub fn code_unknown() -> String {
    reply("绑定失败：验证码无效，请核对电视屏幕上的验证码后重新发送。")
}

pub fn code_expired() -> String {
    reply("绑定失败：验证码已过期，请在电视上获取新的验证码。")
}

pub fn code_used() -> String {
    reply("绑定失败：该验证码已被使用。")
}

pub fn number_locked() -> String {
    reply("绑定失败：验证码错误次数过多，请稍后再试。")
}

/// The national hub refused the number: its network prefix (号段) is allocated to no operator.
pub fn number_not_served_nationally() -> String {
    reply("绑定失败：您的号码不属于任何运营商的手机号段，无法办理此业务。")
}

/// The national hub refused the number: it is on the national blacklist (not the province's own).
pub fn blacklisted_nationally() -> String {
    reply("绑定失败：您的号码已被列入全国业务黑名单，暂不能办理此业务。如有疑问请联系客服。")
}

/// The code is not well-formed (wrong length, a letter codes never contain).
pub fn invalid_code() -> String {
    reply("绑定失败：验证码格式不正确，请核对电视屏幕上的验证码后重新发送。")
}

/// The platform accepted nothing and retrying cannot help (or the activation ended before the confirmation).
pub fn try_again_later() -> String {
    reply("系统暂时无法完成您的请求，请在电视上获取新的验证码后重试。")
}

pub fn denied(reason: DenialReason, device_limit: u32) -> String {
    match reason {
        DenialReason::UnknownSubscriber => reply("绑定失败：您的号码不是本网用户。"),
        DenialReason::SubscriberSuspended => reply("绑定失败：您的号码因欠费停机，请缴费后再试。"),
        DenialReason::SubscriberBlacklisted => reply("绑定失败：您的号码暂不能办理此业务。"),
        DenialReason::SubscriberCancelled => reply("绑定失败：您的号码已销户。"),
        DenialReason::BillingNotAllowed => reply("绑定失败：您的号码未开通代付业务。"),
        DenialReason::DeviceLimitReached => {
            reply(&format!("绑定失败：您的号码绑定的设备已达上限（{device_limit}台），请先发送“解绑”解除其他设备。"))
        }
        _ => reply("绑定失败：您的号码暂不能办理此业务。"),
    }
}

fn mention_list(devices: &[DeviceMention]) -> String {
    devices
        .iter()
        .map(|device| {
            let model: String = device.device_model.chars().take(MAX_MODEL_CHARS).collect();
            format!("{model}（终端尾号{}）", device.terminal_tail)
        })
        .collect::<Vec<_>>()
        .join("、")
}

pub fn unbound(devices: &[DeviceMention]) -> String {
    if devices.is_empty() {
        return nothing_to_unbind();
    }
    reply(&format!("已解除本号码与设备 {}的绑定。", mention_list(devices)))
}

pub fn nothing_to_unbind() -> String {
    reply("本号码没有绑定任何设备。")
}

/// The user answered `N`: the payment is cancelled.
pub fn payment_declined() -> String {
    reply("已取消支付，本次不会扣费。")
}

/// The confirmation number matched no waiting payment; `attempts_left` when the platform said how many remain.
pub fn payment_wrong_number(attempts_left: Option<u32>) -> String {
    match attempts_left {
        Some(0) => reply("确认码不正确，支付已取消。"),
        Some(left) => reply(&format!("确认码不正确，请核对短信中的确认码后重新回复，还可尝试{left}次。")),
        None => reply("确认码不正确，请核对短信中的确认码后重新回复。"),
    }
}

/// A `Y`/`N` answer while no payment waits for this number.
pub fn nothing_pending() -> String {
    reply("没有待确认的支付。")
}

/// `Y`/`N` without six digits.
pub fn invalid_confirmation_number() -> String {
    reply("确认码格式不正确：请回复 Y 加短信中的6位确认码确认支付，或回复 N 加确认码取消。")
}

/// The platform refused the answer for a reason retrying cannot fix.
pub fn payment_answer_failed() -> String {
    reply("系统暂时无法处理您的支付确认，请稍后在电视上重新购买。")
}

pub fn bound_devices(devices: &[DeviceMention]) -> String {
    if devices.is_empty() {
        return nothing_to_unbind();
    }
    reply(&format!("本号码已绑定{}台设备：{}。解绑请发送“解绑”。", devices.len(), mention_list(devices)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(model: &str, tail: &str) -> DeviceMention {
        DeviceMention { device_model: model.into(), terminal_tail: tail.into() }
    }

    fn fits_one_sms(text: &str) {
        assert!(text.starts_with(PREFIX), "{text}");
        assert!(text.chars().count() <= 70, "{} chars: {text}", text.chars().count());
    }

    #[test]
    fn code_replies_say_what_is_wrong_with_the_code() {
        assert!(code_unknown().contains("验证码无效"));
        assert!(code_expired().contains("已过期"));
        assert!(code_used().contains("已被使用"));
        assert!(invalid_code().contains("格式不正确"));
        assert!(number_locked().contains("次数过多"));
        for text in [code_unknown(), code_expired(), code_used(), invalid_code(), number_locked(), try_again_later()] {
            fits_one_sms(&text);
        }
    }

    #[test]
    fn each_denial_reason_has_its_own_reply() {
        let cases = [
            (DenialReason::UnknownSubscriber, "不是本网用户"),
            (DenialReason::SubscriberSuspended, "欠费停机"),
            (DenialReason::SubscriberBlacklisted, "暂不能办理"),
            (DenialReason::SubscriberCancelled, "已销户"),
            (DenialReason::BillingNotAllowed, "未开通代付"),
            (DenialReason::DeviceLimitReached, "已达上限（2台）"),
        ];
        for (reason, phrase) in cases {
            let text = denied(reason, 2);
            assert!(text.contains(phrase), "{reason:?}: {text}");
            fits_one_sms(&text);
        }
    }

    #[test]
    fn unbind_replies_name_the_devices_or_say_there_were_none() {
        let text = unbound(&[device("Skyworth E900", "7Q2K")]);
        assert_eq!(text, "【numbind】已解除本号码与设备 Skyworth E900（终端尾号7Q2K）的绑定。");
        let two = unbound(&[device("Skyworth E900", "7Q2K"), device("Huawei EC6108", "0042")]);
        assert!(two.contains("7Q2K") && two.contains("0042"));
        assert_eq!(unbound(&[]), "【numbind】本号码没有绑定任何设备。");
    }

    #[test]
    fn payment_answers_get_their_own_replies_in_one_sms() {
        assert!(payment_declined().contains("已取消支付"));
        assert!(
            payment_wrong_number(Some(2)).contains("确认码不正确") && payment_wrong_number(Some(2)).contains("2次")
        );
        assert!(payment_wrong_number(Some(0)).contains("支付已取消"));
        assert!(!payment_wrong_number(None).contains('次'));
        assert!(nothing_pending().contains("没有待确认的支付"));
        for text in [
            payment_declined(),
            payment_wrong_number(Some(2)),
            payment_wrong_number(None),
            nothing_pending(),
            invalid_confirmation_number(),
            payment_answer_failed(),
        ] {
            fits_one_sms(&text);
        }
    }

    #[test]
    fn a_query_lists_the_bound_devices_with_a_cut_model_name() {
        let text = bound_devices(&[device(&"M".repeat(60), "7Q2K")]);
        assert!(text.contains("1台") && text.contains("7Q2K"));
        assert!(!text.contains(&"M".repeat(21)));
        fits_one_sms(&text);
        assert_eq!(bound_devices(&[]), nothing_to_unbind());
    }
}
