//! The CMPP login check: a CONNECT against the accounts of protocol `cmpp` (source address, authenticator,
//! version), and the Status a refusal is answered with.

use crate::config::{AccountProtocol, EsmeAccount};
use numbind_cmpp::{Connect, ConnectStatus, Version};

/// Checks a CONNECT against the CMPP accounts; the error is the Status to answer with.
pub(super) fn authenticate<'a>(
    accounts: &'a [EsmeAccount],
    connect: &Connect,
) -> Result<(&'a EsmeAccount, Version), ConnectStatus> {
    if connect.version >> 4 > 3 {
        return Err(ConnectStatus::VersionTooHigh);
    }
    let version = Version::from_byte(connect.version).ok_or(ConnectStatus::OtherError)?;
    let account = accounts
        .iter()
        .filter(|account| account.protocol == AccountProtocol::Cmpp)
        .find(|account| account.system_id == connect.source_addr)
        .ok_or(ConnectStatus::InvalidSourceAddress)?;
    if !connect.is_authentic(&account.password) {
        return Err(ConnectStatus::AuthenticationFailed);
    }
    Ok((account, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_is_checked_for_account_secret_and_version() {
        let accounts = vec![EsmeAccount::cmpp("901234", "secret", vec![]), EsmeAccount::new("oss", "pw", vec![])];
        let connect = |source: &str, secret: &str, version: u8| {
            let mut connect = Connect::new(source, secret, Version::V3, 1_207_120_000);
            connect.version = version;
            connect
        };
        assert_eq!(authenticate(&accounts, &connect("901234", "secret", 0x30)).unwrap().1, Version::V3);
        assert_eq!(authenticate(&accounts, &connect("901234", "secret", 0x20)).unwrap().1, Version::V2);
        assert_eq!(
            authenticate(&accounts, &connect("901234", "wrong", 0x30)).err(),
            Some(ConnectStatus::AuthenticationFailed)
        );
        assert_eq!(
            authenticate(&accounts, &connect("999999", "secret", 0x30)).err(),
            Some(ConnectStatus::InvalidSourceAddress)
        );
        assert_eq!(
            authenticate(&accounts, &connect("oss", "pw", 0x30)).err(),
            Some(ConnectStatus::InvalidSourceAddress)
        );
        assert_eq!(
            authenticate(&accounts, &connect("901234", "secret", 0x40)).err(),
            Some(ConnectStatus::VersionTooHigh)
        );
    }
}
