//! The words of each reason the box names, in both languages: why a binding or a payment was refused, why the
//! platform could not be reached, and what to check or do next.

use crate::domain::connection::ConnectionFailure;
use numbind_wire::api::CancellationReason;
use numbind_wire::statement::DenialReason;

pub(super) fn chinese_cancellation(reason: CancellationReason) -> &'static str {
    match reason {
        CancellationReason::DeclinedByUser => "绑定的手机回复了拒绝",
        CancellationReason::ConfirmationAttemptsExhausted => "确认码错误次数过多",
        CancellationReason::Unbound => "本机已解除号码绑定",
        CancellationReason::CancelledByMerchant => "商户取消了订单",
        _ => "订单被取消",
    }
}

pub(super) fn chinese_failure(failure: ConnectionFailure) -> &'static str {
    match failure {
        ConnectionFailure::ConnectionRefused => "连接被拒绝",
        ConnectionFailure::NameNotFound => "找不到该域名",
        ConnectionFailure::TlsRefused => "安全连接（TLS）被拒绝",
        ConnectionFailure::TimedOut => "连接超时",
        ConnectionFailure::ConnectionCut => "连接中断",
        _ => "网络不通",
    }
}

pub(super) fn chinese_check(failure: ConnectionFailure) -> &'static str {
    match failure {
        ConnectionFailure::NameNotFound => "平台地址和本机的域名解析设置",
        ConnectionFailure::TlsRefused => "平台地址和本机信任的证书",
        _ => "本机网络和平台地址",
    }
}

pub(super) fn chinese_what_next(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::DeviceLimitReached => "请先为该号码解除其他终端，或用另一部手机发送新的开通码",
        DenialReason::UnknownSubscriber | DenialReason::SubscriberCancelled => "请用本运营商的手机发送新的开通码",
        _ => "请向运营商咨询该号码，或用另一部手机发送新的开通码",
    }
}

pub(super) fn chinese_denial(reason: DenialReason) -> &'static str {
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

pub(super) fn english_failure(failure: ConnectionFailure) -> &'static str {
    match failure {
        ConnectionFailure::ConnectionRefused => "connection refused",
        ConnectionFailure::NameNotFound => "name not found",
        ConnectionFailure::TlsRefused => "TLS refused",
        ConnectionFailure::TimedOut => "timed out",
        ConnectionFailure::ConnectionCut => "connection cut",
        _ => "no route to it",
    }
}

pub(super) fn english_check(failure: ConnectionFailure) -> &'static str {
    match failure {
        ConnectionFailure::NameNotFound => "the platform address and the box's DNS settings",
        ConnectionFailure::TlsRefused => "the platform address and the certificate authority the box trusts",
        _ => "the box's network and the platform address",
    }
}

pub(super) fn english_what_next(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::DeviceLimitReached => {
            "Unbind another box from this number, or send the new code from another phone"
        }
        DenialReason::UnknownSubscriber | DenialReason::SubscriberCancelled => {
            "Send the new code from a phone of this operator"
        }
        _ => "Ask the operator about this number, or send the new code from another phone",
    }
}

pub(super) fn english_cancellation(reason: CancellationReason) -> &'static str {
    match reason {
        CancellationReason::DeclinedByUser => "the bound phone said no",
        CancellationReason::ConfirmationAttemptsExhausted => "too many wrong confirmation numbers",
        CancellationReason::Unbound => "this box is no longer bound to a number",
        CancellationReason::CancelledByMerchant => "the merchant cancelled the order",
        _ => "the order was cancelled",
    }
}

pub(super) fn english_denial(reason: DenialReason) -> &'static str {
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
