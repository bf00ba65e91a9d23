//! Use case, merchants: creating (token hashed), listing, revoking and authenticating them, each change audited.

use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::merchants::{
    all_merchants, find_merchant_in, insert_merchant, live_merchant_token_hash, mark_merchant_revoked, Merchant,
};
use super::{Store, StoreError};
use crate::domain::operator::hashes_match;
use numbind_wire::MerchantId;

/// Who acts from the operator's command line.
const COMMAND_LINE_ACTOR: &str = "operator:command-line";

impl Store {
    /// Stores a new merchant with its token's hash (never the token); `false` if the ID is taken. Audited.
    pub fn insert_merchant(&self, merchant: &Merchant, token_hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.in_transaction(|transaction| {
            if !insert_merchant(transaction, merchant, token_hash)? {
                return Ok(false);
            }
            let detail = format!("merchant {} ({})", merchant.merchant_id, merchant.display_name);
            let event = AuditEvent::new(COMMAND_LINE_ACTOR, "merchant_created").detail(&detail);
            append_audit_event(transaction, self.audit_key.as_ref(), merchant.created_at, &event)?;
            Ok(true)
        })
    }

    /// Revokes a merchant's token; `false` if it had no live token. Audited.
    pub fn revoke_merchant(&self, merchant_id: &MerchantId, now: i64) -> Result<bool, StoreError> {
        self.in_transaction(|transaction| {
            if !mark_merchant_revoked(transaction, merchant_id, now)? {
                return Ok(false);
            }
            let detail = format!("merchant {merchant_id}");
            let event = AuditEvent::new(COMMAND_LINE_ACTOR, "merchant_revoked").detail(&detail);
            append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            Ok(true)
        })
    }

    pub fn merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        self.read(all_merchants)
    }

    pub fn find_merchant(&self, merchant_id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        self.read(|connection| find_merchant_in(connection, merchant_id))
    }

    /// The live merchant whose token hashes to `token_hash` (compared in constant time).
    pub fn authenticate_merchant(
        &self,
        merchant_id: &MerchantId,
        token_hash: &[u8; 32],
    ) -> Result<Option<Merchant>, StoreError> {
        self.read(|connection| {
            let Some(stored) = live_merchant_token_hash(connection, merchant_id)? else { return Ok(None) };
            if !hashes_match(&stored, token_hash) {
                return Ok(None);
            }
            find_merchant_in(connection, merchant_id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merchant_authenticates_with_its_token_until_revoked() {
        let store = Store::open_in_memory().unwrap();
        let merchant_id = MerchantId::parse("demo-films").unwrap();
        let merchant = Merchant {
            merchant_id: merchant_id.clone(),
            display_name: "演示影院".to_owned(),
            webhook_url: None,
            created_at: 10,
            revoked_at: None,
        };
        assert!(store.insert_merchant(&merchant, &[7; 32]).unwrap());
        assert!(!store.insert_merchant(&merchant, &[8; 32]).unwrap(), "an id is taken once");
        assert_eq!(store.authenticate_merchant(&merchant_id, &[7; 32]).unwrap(), Some(merchant));
        assert_eq!(store.authenticate_merchant(&merchant_id, &[8; 32]).unwrap(), None);
        assert!(store.revoke_merchant(&merchant_id, 11).unwrap());
        assert_eq!(store.authenticate_merchant(&merchant_id, &[7; 32]).unwrap(), None);
        let kinds: Vec<_> = store.audit_events().unwrap().into_iter().map(|event| event.kind).collect();
        assert_eq!(kinds, ["merchant_created", "merchant_revoked"]);
    }
}
