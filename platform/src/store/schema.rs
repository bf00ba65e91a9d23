//! The schema and its migrations, applied in order at open and recorded in `schema_version`.

use numbind_database::Connection;
use numbind_sqlite::{DatabaseError, Schema};

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    device_model TEXT NOT NULL,
    registered_at INTEGER NOT NULL
);
CREATE TABLE manifest_terminals (
    terminal_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL
);
CREATE TABLE activations (
    activation_id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(terminal_id),
    code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','claimed','bound','denied','expired','cancelled')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    claimed_msisdn TEXT,
    claimed_sms_message_id TEXT,
    denial_reason TEXT,
    binding_id TEXT,
    redemption_response TEXT,
    confirmation_response TEXT,
    acknowledged_at INTEGER
);
CREATE UNIQUE INDEX activations_live_code ON activations(code) WHERE state IN ('pending','claimed');
CREATE UNIQUE INDEX activations_by_sms ON activations(claimed_sms_message_id) WHERE claimed_sms_message_id IS NOT NULL;
CREATE INDEX activations_by_code ON activations(code, created_at);
CREATE INDEX activations_by_terminal ON activations(terminal_id, created_at);
CREATE INDEX activations_by_deadline ON activations(state, expires_at);
CREATE TABLE bindings (
    binding_id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(terminal_id),
    msisdn TEXT NOT NULL,
    activation_id TEXT NOT NULL REFERENCES activations(activation_id),
    state TEXT NOT NULL CHECK (state IN ('active','revoked')),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
);
CREATE UNIQUE INDEX bindings_one_active_per_terminal ON bindings(terminal_id) WHERE state = 'active';
CREATE INDEX bindings_by_msisdn ON bindings(msisdn, state);
CREATE TABLE request_nonces (
    terminal_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
) WITHOUT ROWID;
CREATE INDEX request_nonces_by_age ON request_nonces(seen_at);
CREATE TABLE oss_unbindings (
    request_id TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE outbox_sms (
    outbox_id TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    smsc_message_id TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_sms_due ON outbox_sms(state, next_attempt_at);
CREATE TABLE audit_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    terminal_id TEXT,
    msisdn_masked TEXT,
    activation_id TEXT,
    binding_id TEXT,
    detail TEXT
);
CREATE TRIGGER audit_events_are_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_are_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"#,
    r#"
ALTER TABLE manifest_terminals ADD COLUMN device_model TEXT;
CREATE TABLE redemption_failures (
    sms_message_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('code_unknown','code_expired','code_used')),
    locked_the_number INTEGER NOT NULL DEFAULT 0,
    failed_at INTEGER NOT NULL
);
CREATE INDEX redemption_failures_by_number ON redemption_failures(msisdn, failed_at);
CREATE INDEX redemption_failures_by_age ON redemption_failures(failed_at);
CREATE TABLE number_locks (
    msisdn TEXT PRIMARY KEY,
    locked_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE audit_events ADD COLUMN sequence INTEGER;
ALTER TABLE audit_events ADD COLUMN message_id TEXT;
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_events_by_sequence ON audit_events(sequence);
CREATE INDEX audit_events_by_terminal ON audit_events(terminal_id, sequence);
DROP TRIGGER audit_events_are_append_only_update;
CREATE TRIGGER audit_events_are_append_only_update BEFORE UPDATE ON audit_events WHEN OLD.hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TABLE operator_tokens (
    token_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('auditor','admin')),
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX bindings_by_created ON bindings(created_at, binding_id);
"#,
    r#"
CREATE TABLE outbox_oss (
    revocation_id TEXT PRIMARY KEY,
    binding_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('operator','factory_reset')),
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX outbox_oss_due ON outbox_oss(state, next_attempt_at);
CREATE INDEX outbox_oss_by_binding ON outbox_oss(binding_id);
"#,
    // Replay protection moved to memory (`guards::replay_guard`): a status check no longer writes its nonce.
    r#"
DROP TABLE IF EXISTS request_nonces;
"#,
    // A terminal's binding history (operator API, console) searches its own bindings instead of walking them all.
    r#"
CREATE INDEX bindings_by_terminal ON bindings(terminal_id);
"#,
    // Signed checkpoints of the audit chain's head, and their delivery to the OSS (the witness).
    r#"
CREATE TABLE audit_checkpoints (
    sequence INTEGER PRIMARY KEY,
    head_hash BLOB NOT NULL,
    made_at INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER
);
CREATE INDEX audit_checkpoints_due ON audit_checkpoints(state, next_attempt_at);
"#,
    // Each audit event's MAC under the platform's audit key (`domain::audit_mac`). The migration runs without the
    // key: the events already stored keep no MAC and stay the unkeyed start of the chain, which the platform ends at
    // its next start with a keyed `audit_chain_keyed` event (`Store::key_audit_chain`).
    r#"
ALTER TABLE audit_events ADD COLUMN mac BLOB;
"#,
    // Payments (issue 19): merchants and their hashed bearer tokens, payments charged on a box's signed intent,
    // refunds, the merchants' idempotency keys, the billing outbox (charges and refunds the OSS must answer), the
    // bound numbers' answers to confirmation SMS, and the merchants' signed events (webhooks).
    r#"
CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    webhook_url TEXT,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE payments (
    payment_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    reference_code TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    intent_nonce TEXT NOT NULL,
    binding_id TEXT,
    msisdn TEXT,
    item_id TEXT NOT NULL,
    item_description TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('processing','pending_confirmation','succeeded','denied','cancelled','expired')),
    denial_reason TEXT,
    cancellation_reason TEXT,
    server_reference_code TEXT,
    confirmation_tag BLOB,
    confirmation_expires_at INTEGER,
    confirmation_attempts INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finalized_at INTEGER,
    UNIQUE (terminal_id, intent_nonce)
);
CREATE INDEX payments_by_merchant ON payments(merchant_id, created_at, payment_id);
CREATE INDEX payments_by_merchant_updated ON payments(merchant_id, updated_at);
CREATE INDEX payments_by_terminal ON payments(terminal_id, created_at);
CREATE INDEX payments_pending_by_number ON payments(msisdn, state);
CREATE INDEX payments_by_binding ON payments(binding_id, state);
CREATE INDEX payments_by_deadline ON payments(state, confirmation_expires_at);
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash BLOB NOT NULL,
    record_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, scope, idempotency_key)
) WITHOUT ROWID;
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(payment_id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('processing','succeeded','denied')),
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    denial_reason TEXT,
    server_reference_code TEXT,
    created_at INTEGER NOT NULL,
    finalized_at INTEGER
);
CREATE INDEX refunds_by_payment ON refunds(payment_id, created_at);
CREATE TABLE outbox_billing (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('charge','refund')),
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX outbox_billing_due ON outbox_billing(state, next_attempt_at);
CREATE TABLE payment_confirmation_answers (
    sms_message_id TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE merchant_events (
    event_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE UNIQUE INDEX merchant_events_in_order ON merchant_events(merchant_id, sequence);
CREATE INDEX merchant_events_due ON merchant_events(state, next_attempt_at);
"#,
    // An SMS whose text holds a secret (a payment's confirmation number) keeps it only until the SMS centre took it.
    r#"
ALTER TABLE outbox_sms ADD COLUMN redact_when_delivered INTEGER NOT NULL DEFAULT 0
    CHECK (redact_when_delivered IN (0, 1));
"#,
    // Idempotency keys are forgotten after their retention; the purge finds them by age.
    r#"
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
"#,
    // A binding the number unbound by SMS is revoked `unbound_by_sms`, as the OSS records it.
    r#"
UPDATE bindings SET revoked_reason = 'unbound_by_sms' WHERE revoked_reason = 'oss_unbind';
"#,
    // Settlement and payment reconciliation: the day's settled charges and refunds found by their settling time,
    // refunds in time order for their export, and the operators' adjustments of a reconciliation difference (each
    // with its reason, audited).
    r#"
CREATE INDEX payments_settled_by_time ON payments(finalized_at) WHERE state = 'succeeded';
CREATE INDEX refunds_settled_by_time ON refunds(finalized_at) WHERE state = 'succeeded';
CREATE INDEX refunds_by_time ON refunds(created_at, refund_id);
CREATE TABLE payment_adjustments (
    adjustment_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    record_id TEXT NOT NULL,
    difference TEXT NOT NULL,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (day, record_id, difference)
);
"#,
    // Disputes: a number's dispute of one of its charges, resolved once by an operator.
    super::tables::disputes::DISPUTES_MIGRATION,
    // Monthly statements: which numbers' statement SMS of which month is queued.
    super::tables::statement_sends::STATEMENT_SENDS_MIGRATION,
    // A merchant's oldest queued event (the next to deliver) is found among its queued events only: through
    // merchant_events_in_order the search walked every event the merchant ever had, once per queued event.
    r#"
CREATE INDEX merchant_events_queued_in_order ON merchant_events(merchant_id, sequence) WHERE state = 'queued';
"#,
    // Statements on a schedule: the months whose statements the schedule finished queuing.
    super::tables::statement_schedule::STATEMENT_SCHEDULE_MIGRATION,
    // The national hub: the province whose OSS holds a binding, and the routing table that chose it (NULL for
    // bindings made without provinces); a revocation goes to the OSS of its binding's province.
    r#"
ALTER TABLE bindings ADD COLUMN province TEXT;
ALTER TABLE bindings ADD COLUMN routing_version TEXT;
ALTER TABLE outbox_oss ADD COLUMN province TEXT;
CREATE INDEX outbox_oss_due_by_province ON outbox_oss(province, state, next_attempt_at);
"#,
    // The hub's routing tables as imported (`numbind routing import`), one version per import.
    super::tables::routing_tables::ROUTING_TABLES_MIGRATION,
    // The hub's national blacklist (`numbind blacklist add|remove|list`).
    super::hub_checks::NATIONAL_BLACKLIST_MIGRATION,
    // The national hub: each queued charge or refund goes to the OSS of the province of the binding it is charged
    // to, drained by that province's own worker (NULL: bindings made without provinces).
    super::tables::billing_outbox::BILLING_OUTBOX_PROVINCE_MIGRATION,
];

/// The first migration alone, to build a database as an older build left it.
#[cfg(test)]
pub(super) const FIRST_MIGRATION_FOR_TESTS: &str = MIGRATIONS[0];

/// The platform's schema; events written before the audit chain existed are chained when a migration runs.
pub(super) const SCHEMA: Schema = Schema::new(MIGRATIONS).with_after_migrations(chain_old_audit_events);

fn chain_old_audit_events(transaction: &rusqlite::Transaction<'_>) -> Result<(), DatabaseError> {
    super::tables::audit_events::chain_unchained_audit_events(&Connection::Sqlite(transaction))
        .map_err(|error| DatabaseError::AfterMigrations(format!("chaining old audit events: {error}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{BindingFilter, Store};

    #[test]
    fn a_binding_the_number_unbound_by_sms_under_the_old_word_is_renamed_by_the_migration() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform.db");
        drop(Store::open(&path).unwrap());
        let connection = rusqlite::Connection::open(&path).unwrap();
        // A bare row as an older build left it, without the terminal and activation it refers to.
        connection.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        connection
            .execute(
                "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at, revoked_at, \
                 revoked_reason) VALUES ('bnd-old', 'NB-OLD000001', '13800138000', 'act-old', 'revoked', 1, 2, \
                 'oss_unbind')",
                [],
            )
            .unwrap();
        // The migration itself, as it runs on a database that an older build left with such a row.
        let rename = super::MIGRATIONS.iter().find(|migration| migration.contains("'unbound_by_sms'")).unwrap();
        connection.execute_batch(rename).unwrap();
        drop(connection);
        let store = Store::open(&path).unwrap();
        let bindings = store.search_bindings(&BindingFilter::default(), 0, 10).unwrap();
        assert_eq!(bindings[0].revoked_reason.as_deref(), Some("unbound_by_sms"));
    }
}
