//! Revocations the platform owes the OSS (operator unbinding, factory reset): the queued message and its ID.

use numbind_wire::api::PlatformRevocationRequest;
use ring::rand::SecureRandom;

/// One entry of the platform→OSS outbox: the message and how its delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedOssRevocation {
    pub request: PlatformRevocationRequest,
    pub delivered: bool,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The province whose OSS it goes to (the binding's); `None` for a binding made without provinces.
    pub province: Option<numbind_routing::ProvinceCode>,
}

/// `rev-` and 32 lowercase hex digits (128 random bits): the idempotency key the OSS sees.
pub(crate) fn new_revocation_id(random: &dyn SecureRandom) -> Result<String, super::ids::RandomSourceFailed> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes).map_err(|_| super::ids::RandomSourceFailed)?;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("rev-{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn revocation_ids_have_their_prefix_and_differ() {
        let random = SystemRandom::new();
        let (first, second) = (new_revocation_id(&random).unwrap(), new_revocation_id(&random).unwrap());
        assert!(first.starts_with("rev-") && first.len() == 36, "{first}");
        assert_ne!(first, second);
    }
}
