//! The national hub's own checks, decided before any province is asked (as a headquarters hub validates before it
//! routes): the number is an 11-digit mobile number of a known operator's network prefix, the amount is within
//! the national limit for one charge, the number is not on the national blacklist. Pure: the blacklist's answer is
//! given to [`check_blacklist`]. What needs a province (status, arrears, balance, provincial limits) stays there.

use numbind_wire::{Amount, Msisdn};

/// Which check refused, as the metric `numbind_hub_refusals_total{check}` and the audit event name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HubCheck {
    /// Format and network prefix of the number.
    NumberPrefix,
    /// The national limit for one charge.
    AmountLimit,
    /// The national blacklist.
    Blacklist,
}

impl HubCheck {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HubCheck::NumberPrefix => "number_prefix",
            HubCheck::AmountLimit => "amount_limit",
            HubCheck::Blacklist => "blacklist",
        }
    }
}

/// Why the hub refused, before any province was asked. No number in these messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HubRefusal {
    #[error("the number is not an 11-digit mobile number of a known operator's network prefix: {0}")]
    NumberNotMobile(&'static str),
    #[error("the number is on the national blacklist")]
    BlacklistedNationally,
    #[error("the amount ({amount_fen} fen) is above the national limit for one charge ({limit_fen} fen)")]
    AmountOverNationalLimit { amount_fen: i64, limit_fen: i64 },
}

impl HubRefusal {
    pub(crate) fn check(&self) -> HubCheck {
        match self {
            HubRefusal::NumberNotMobile(_) => HubCheck::NumberPrefix,
            HubRefusal::BlacklistedNationally => HubCheck::Blacklist,
            HubRefusal::AmountOverNationalLimit { .. } => HubCheck::AmountLimit,
        }
    }
}

/// The most one charge may be, nationwide, in fen; each province's own limits apply below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NationalChargeLimit(i64);

impl NationalChargeLimit {
    /// 500 yuan: above every province's own single-charge limit (the demo OSS's is 200 yuan), so it catches a
    /// merchant's or a box's mistake of a hundredfold amount before any province is asked.
    pub const DEFAULT_FEN: i64 = 50_000;

    /// A limit of `fen` (at least 1).
    pub fn from_fen(fen: i64) -> Result<Self, String> {
        if fen < 1 {
            return Err(format!("the national charge limit must be at least 1 fen, found {fen}"));
        }
        Ok(NationalChargeLimit(fen))
    }

    pub fn fen(self) -> i64 {
        self.0
    }
}

impl Default for NationalChargeLimit {
    fn default() -> Self {
        NationalChargeLimit(Self::DEFAULT_FEN)
    }
}

/// A number's text as a caller sent it: parsed, and of a known operator's network prefix.
pub(crate) fn check_number_text(text: &str) -> Result<Msisdn, HubRefusal> {
    let msisdn = Msisdn::parse(text).map_err(|_| HubRefusal::NumberNotMobile("not 11 digits starting 13 to 19"))?;
    check_number(&msisdn)?;
    Ok(msisdn)
}

/// A parsed number whose network prefix no operator was allocated is refused.
pub(crate) fn check_number(msisdn: &Msisdn) -> Result<(), HubRefusal> {
    match numbind_routing::issuing_operator(msisdn) {
        Some(_) => Ok(()),
        None => Err(HubRefusal::NumberNotMobile("its network prefix is allocated to no operator")),
    }
}

/// An amount above the national limit for one charge is refused.
pub(crate) fn check_amount(amount: Amount, limit: NationalChargeLimit) -> Result<(), HubRefusal> {
    if amount.minor_units() > limit.fen() {
        return Err(HubRefusal::AmountOverNationalLimit { amount_fen: amount.minor_units(), limit_fen: limit.fen() });
    }
    Ok(())
}

/// A number the national blacklist holds is refused.
pub(crate) fn check_blacklist(on_national_blacklist: bool) -> Result<(), HubRefusal> {
    if on_national_blacklist {
        return Err(HubRefusal::BlacklistedNationally);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_number_of_an_allocated_prefix_passes_in_any_written_form() {
        for text in ["13800138000", "+86 138-0013-8000", "8618912345678", "19212345678"] {
            assert!(check_number_text(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_number_of_the_wrong_length_or_not_mobile_is_refused_as_not_mobile() {
        for text in ["1380013800", "138001380001", "02081234567", "12345678901", "1380013800x", ""] {
            let refused = check_number_text(text).unwrap_err();
            assert!(matches!(refused, HubRefusal::NumberNotMobile(_)), "{text}");
            assert_eq!(refused.check(), HubCheck::NumberPrefix);
        }
    }

    #[test]
    fn a_mobile_number_of_an_unallocated_prefix_is_refused_and_the_message_names_no_number() {
        let refused = check_number_text("15412345678").unwrap_err();
        assert_eq!(refused, HubRefusal::NumberNotMobile("its network prefix is allocated to no operator"));
        assert!(!refused.to_string().contains("154"), "{refused}");
        assert!(check_number(&Msisdn::parse("14412345678").unwrap()).is_err(), "an IoT prefix");
    }

    #[test]
    fn the_amount_limit_admits_the_limit_itself_and_refuses_one_fen_more() {
        let limit = NationalChargeLimit::from_fen(50_000).unwrap();
        assert_eq!(check_amount(Amount::from_minor_units(50_000).unwrap(), limit), Ok(()));
        let refused = check_amount(Amount::from_minor_units(50_001).unwrap(), limit).unwrap_err();
        assert_eq!(refused, HubRefusal::AmountOverNationalLimit { amount_fen: 50_001, limit_fen: 50_000 });
        assert_eq!(refused.check(), HubCheck::AmountLimit);
        assert_eq!(NationalChargeLimit::default().fen(), NationalChargeLimit::DEFAULT_FEN);
        assert!(NationalChargeLimit::from_fen(0).is_err());
    }

    #[test]
    fn a_blacklisted_number_is_refused_with_its_own_check() {
        assert_eq!(check_blacklist(false), Ok(()));
        let refused = check_blacklist(true).unwrap_err();
        assert_eq!((refused.clone(), refused.check().as_str()), (HubRefusal::BlacklistedNationally, "blacklist"));
    }
}
