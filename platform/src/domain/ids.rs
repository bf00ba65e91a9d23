//! Identifiers the platform mints: activation IDs and outbox message IDs, from the system random source.

use numbind_wire::ActivationId;
use ring::rand::SecureRandom;

/// The random source failed; nothing was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random source failed")]
pub(crate) struct RandomSourceFailed;

/// `act-` and 16 lowercase hex digits (64 random bits).
pub(crate) fn new_activation_id(random: &dyn SecureRandom) -> Result<ActivationId, RandomSourceFailed> {
    let text = format!("act-{}", random_hex(random, 8)?);
    // Always well-formed (`act-` and hex digits); a refusal could only mean the bytes were not what was drawn.
    ActivationId::try_from(text).map_err(|_| RandomSourceFailed)
}

/// `sms-` and 32 lowercase hex digits: the outbox key, sent to the SMS centre as the client reference.
pub(crate) fn new_outbox_id(random: &dyn SecureRandom) -> Result<String, RandomSourceFailed> {
    Ok(format!("sms-{}", random_hex(random, 16)?))
}

/// `dsp-` and 24 lowercase hex digits: a dispute's ID.
pub(crate) fn new_dispute_id(random: &dyn SecureRandom) -> Result<String, RandomSourceFailed> {
    Ok(format!("dsp-{}", random_hex(random, 12)?))
}

fn random_hex(random: &dyn SecureRandom, byte_count: usize) -> Result<String, RandomSourceFailed> {
    let mut bytes = vec![0u8; byte_count];
    random.fill(&mut bytes).map_err(|_| RandomSourceFailed)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn minted_ids_have_their_prefix_and_differ() {
        let random = SystemRandom::new();
        let first = new_activation_id(&random).unwrap();
        assert!(first.as_str().starts_with("act-") && first.as_str().len() == 20, "{first}");
        assert_ne!(first, new_activation_id(&random).unwrap());
        let outbox_id = new_outbox_id(&random).unwrap();
        assert!(outbox_id.starts_with("sms-") && outbox_id.len() == 36);
        assert!(numbind_wire::ActivationId::parse(first.as_str()).is_ok());
        assert!(numbind_wire::ActivationId::parse("act 1").is_err());
        assert!(numbind_wire::ActivationId::parse("").is_err());
    }
}
