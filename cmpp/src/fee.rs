//! The fee fields of a SUBMIT as typed values: who pays (`Fee_UserType`, `Fee_terminal_Id` and its type in
//! 3.0), how (`FeeType`) and how much (`FeeCode`, in fen). A provider's billed messages carry them, and the
//! gateway's records of them are what the operator bills from.

use crate::spec_enum::spec_enum;

spec_enum! {
    /// `Fee_UserType`: whose number is charged.
    pub enum FeeUserType: u8 {
        /// The destination terminal.
        Destination = 0 => "charge the destination",
        /// The source terminal.
        Source = 1 => "charge the source",
        /// The service provider.
        ServiceProvider = 2 => "charge the service provider",
        /// The number in `Fee_terminal_Id`.
        FeeTerminal = 3 => "charge the fee terminal",
    }
}

spec_enum! {
    /// `FeeType`, two decimal digits on the wire ("01" to "05").
    pub enum FeeType: u8 {
        /// "01": free of charge.
        Free = 1 => "free",
        /// "02": charged per message.
        PerMessage = 2 => "per message",
        /// "03": a monthly subscription.
        Monthly = 3 => "monthly",
        /// "04": capped.
        Capped = 4 => "capped",
        /// "05": charged by the service provider.
        ChargedByProvider = 5 => "charged by the provider",
    }
}

/// The largest FeeCode the 6-digit field holds, in fen.
pub const MAX_FEE_CODE_FEN: u32 = 999_999;

/// `FeeCode`: the price in fen (0.01 yuan), six decimal digits at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FeeCode(u32);

/// Why a fee field does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeeError {
    #[error("a fee code is at most {MAX_FEE_CODE_FEN} fen")]
    FeeCodeTooLarge,
    #[error("a fee field holds decimal digits only")]
    NotDecimal,
}

impl FeeCode {
    /// A price of `fen` fen.
    pub fn from_fen(fen: u32) -> Result<FeeCode, FeeError> {
        if fen > MAX_FEE_CODE_FEN {
            return Err(FeeError::FeeCodeTooLarge);
        }
        Ok(FeeCode(fen))
    }

    pub const fn fen(self) -> u32 {
        self.0
    }

    /// Reads the wire text: up to six decimal digits; empty means 0 (some providers leave it blank when free).
    pub fn parse(text: &str) -> Result<FeeCode, FeeError> {
        FeeCode::from_fen(parse_decimal(text)?)
    }
}

/// The decimal number in `text` (empty is 0); refuses anything but ASCII digits or more than six of them.
pub(crate) fn parse_decimal(text: &str) -> Result<u32, FeeError> {
    if text.len() > 6 {
        return Err(FeeError::FeeCodeTooLarge);
    }
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FeeError::NotDecimal);
    }
    Ok(text.bytes().fold(0u32, |total, digit| total * 10 + u32::from(digit - b'0')))
}

/// The fee fields of one SUBMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub user_type: FeeUserType,
    /// The charged number when `user_type` is [`FeeUserType::FeeTerminal`]; empty otherwise.
    pub terminal_id: String,
    /// `Fee_terminal_type` (3.0 only; 0 real number, 1 pseudonym). Written as 0 and read as 0 in 2.0.
    pub terminal_type: u8,
    pub fee_type: FeeType,
    pub fee_code: FeeCode,
}

impl Default for Fee {
    /// Free of charge, charged to nobody: what a provider's notification carries.
    fn default() -> Self {
        Fee {
            user_type: FeeUserType::Destination,
            terminal_id: String::new(),
            terminal_type: 0,
            fee_type: FeeType::Free,
            fee_code: FeeCode::default(),
        }
    }
}

impl Fee {
    /// A message charged `fee_code` per message to its destination.
    pub fn per_message(fee_code: FeeCode) -> Fee {
        Fee { fee_type: FeeType::PerMessage, fee_code, ..Fee::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_codes_are_decimal_fen_of_six_digits_at_most() {
        assert_eq!(FeeCode::parse("000150").unwrap().fen(), 150);
        assert_eq!(FeeCode::parse("10").unwrap().fen(), 10);
        assert_eq!(FeeCode::parse("").unwrap().fen(), 0);
        assert_eq!(FeeCode::parse("1a"), Err(FeeError::NotDecimal));
        assert_eq!(FeeCode::parse("1000000"), Err(FeeError::FeeCodeTooLarge));
        assert_eq!(FeeCode::from_fen(1_000_000), Err(FeeError::FeeCodeTooLarge));
    }

    #[test]
    fn fee_types_and_user_types_carry_their_spec_values() {
        assert_eq!(FeeType::from(2), FeeType::PerMessage);
        assert_eq!(FeeType::Other(9).value(), 9);
        assert_eq!(FeeUserType::from(3), FeeUserType::FeeTerminal);
        assert_eq!(Fee::per_message(FeeCode::from_fen(10).unwrap()).fee_type.value(), 2);
    }
}
