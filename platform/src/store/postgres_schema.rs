//! The platform's schema on PostgreSQL, its own list of migrations (applied in order at open, recorded in
//! `schema_version`): the same tables, columns and indexes as SQLite's [`super::schema`] at its latest version,
//! with BIGINT for integers (booleans stay 0 or 1, as on SQLite) and BYTEA for blobs.
//!
//! Where SQLite has an implicit `rowid` that the store orders by (bindings, the SMS and OSS outboxes), the table
//! has a `rowid BIGSERIAL` column of that name, so the store's SQL reads the same on both. The append-only rule of
//! `audit_events` is a trigger, as on SQLite.

use numbind_database::PostgresSchema;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    device_model TEXT NOT NULL,
    registered_at BIGINT NOT NULL
);
CREATE TABLE manifest_terminals (
    terminal_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    device_model TEXT
);
CREATE TABLE activations (
    activation_id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(terminal_id),
    code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','claimed','bound','denied','expired','cancelled')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    claimed_msisdn TEXT,
    claimed_sms_message_id TEXT,
    denial_reason TEXT,
    binding_id TEXT,
    redemption_response TEXT,
    confirmation_response TEXT,
    acknowledged_at BIGINT
);
CREATE UNIQUE INDEX activations_live_code ON activations(code) WHERE state IN ('pending','claimed');
CREATE UNIQUE INDEX activations_by_sms ON activations(claimed_sms_message_id) WHERE claimed_sms_message_id IS NOT NULL;
CREATE INDEX activations_by_code ON activations(code, created_at);
CREATE INDEX activations_by_terminal ON activations(terminal_id, created_at);
CREATE INDEX activations_by_deadline ON activations(state, expires_at);
CREATE TABLE bindings (
    rowid BIGSERIAL NOT NULL UNIQUE,
    binding_id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(terminal_id),
    msisdn TEXT NOT NULL,
    activation_id TEXT NOT NULL REFERENCES activations(activation_id),
    state TEXT NOT NULL CHECK (state IN ('active','revoked')),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT,
    province TEXT,
    routing_version TEXT
);
CREATE UNIQUE INDEX bindings_one_active_per_terminal ON bindings(terminal_id) WHERE state = 'active';
CREATE INDEX bindings_by_msisdn ON bindings(msisdn, state);
CREATE INDEX bindings_by_created ON bindings(created_at, binding_id);
CREATE INDEX bindings_by_terminal ON bindings(terminal_id, rowid);
CREATE TABLE oss_unbindings (
    request_id TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE outbox_sms (
    rowid BIGSERIAL NOT NULL UNIQUE,
    outbox_id TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','sent')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    smsc_message_id TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    redact_when_delivered BIGINT NOT NULL DEFAULT 0 CHECK (redact_when_delivered IN (0, 1))
);
CREATE INDEX outbox_sms_due ON outbox_sms(state, next_attempt_at);
CREATE TABLE audit_events (
    event_id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    terminal_id TEXT,
    msisdn_masked TEXT,
    activation_id TEXT,
    binding_id TEXT,
    detail TEXT,
    sequence BIGINT,
    message_id TEXT,
    prev_hash BYTEA,
    hash BYTEA,
    mac BYTEA
);
CREATE UNIQUE INDEX audit_events_by_sequence ON audit_events(sequence);
CREATE INDEX audit_events_by_terminal ON audit_events(terminal_id, sequence);
CREATE FUNCTION audit_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END;
$$;
CREATE TRIGGER audit_events_are_append_only_update BEFORE UPDATE ON audit_events
    FOR EACH ROW WHEN (OLD.hash IS NOT NULL) EXECUTE FUNCTION audit_events_are_append_only();
CREATE TRIGGER audit_events_are_append_only_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();
CREATE TABLE redemption_failures (
    sms_message_id TEXT PRIMARY KEY,
    msisdn TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('code_unknown','code_expired','code_used')),
    locked_the_number BIGINT NOT NULL DEFAULT 0,
    failed_at BIGINT NOT NULL
);
CREATE INDEX redemption_failures_by_number ON redemption_failures(msisdn, failed_at);
CREATE INDEX redemption_failures_by_age ON redemption_failures(failed_at);
CREATE TABLE number_locks (
    msisdn TEXT PRIMARY KEY,
    locked_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
CREATE TABLE operator_tokens (
    token_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('auditor','admin')),
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE outbox_oss (
    rowid BIGSERIAL NOT NULL UNIQUE,
    revocation_id TEXT PRIMARY KEY,
    binding_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('operator','factory_reset')),
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    province TEXT
);
CREATE INDEX outbox_oss_due ON outbox_oss(state, next_attempt_at);
CREATE INDEX outbox_oss_by_binding ON outbox_oss(binding_id);
CREATE INDEX outbox_oss_due_by_province ON outbox_oss(province, state, next_attempt_at);
CREATE TABLE audit_checkpoints (
    sequence BIGINT PRIMARY KEY,
    head_hash BYTEA NOT NULL,
    made_at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX audit_checkpoints_due ON audit_checkpoints(state, next_attempt_at);
CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    webhook_url TEXT,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
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
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('processing','pending_confirmation','succeeded','denied','cancelled','expired')),
    denial_reason TEXT,
    cancellation_reason TEXT,
    server_reference_code TEXT,
    confirmation_tag BYTEA,
    confirmation_expires_at BIGINT,
    confirmation_attempts BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finalized_at BIGINT,
    UNIQUE (terminal_id, intent_nonce)
);
CREATE INDEX payments_by_merchant ON payments(merchant_id, created_at, payment_id);
CREATE INDEX payments_by_merchant_updated ON payments(merchant_id, updated_at);
CREATE INDEX payments_by_terminal ON payments(terminal_id, created_at);
CREATE INDEX payments_pending_by_number ON payments(msisdn, state);
CREATE INDEX payments_by_binding ON payments(binding_id, state);
CREATE INDEX payments_by_deadline ON payments(state, confirmation_expires_at);
CREATE INDEX payments_settled_by_time ON payments(finalized_at) WHERE state = 'succeeded';
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash BYTEA NOT NULL,
    record_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, scope, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(payment_id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('processing','succeeded','denied')),
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    denial_reason TEXT,
    server_reference_code TEXT,
    created_at BIGINT NOT NULL,
    finalized_at BIGINT
);
CREATE INDEX refunds_by_payment ON refunds(payment_id, created_at);
CREATE INDEX refunds_settled_by_time ON refunds(finalized_at) WHERE state = 'succeeded';
CREATE INDEX refunds_by_time ON refunds(created_at, refund_id);
CREATE TABLE outbox_billing (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('charge','refund')),
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    province TEXT
);
CREATE INDEX outbox_billing_due ON outbox_billing(state, next_attempt_at);
CREATE INDEX outbox_billing_due_by_province ON outbox_billing(province, state, next_attempt_at);
CREATE TABLE payment_confirmation_answers (
    sms_message_id TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE merchant_events (
    event_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','delivered')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE UNIQUE INDEX merchant_events_in_order ON merchant_events(merchant_id, sequence);
CREATE INDEX merchant_events_due ON merchant_events(state, next_attempt_at);
CREATE INDEX merchant_events_queued_in_order ON merchant_events(merchant_id, sequence) WHERE state = 'queued';
CREATE TABLE payment_adjustments (
    adjustment_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    record_id TEXT NOT NULL,
    difference TEXT NOT NULL,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (day, record_id, difference)
);
CREATE TABLE disputes (
    dispute_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE,
    msisdn TEXT NOT NULL,
    sms_message_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'refunded', 'rejected')),
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    rejection_reason TEXT,
    refund_id TEXT
);
CREATE INDEX disputes_by_state ON disputes(state, opened_at);
CREATE TABLE statement_sends (
    msisdn TEXT NOT NULL,
    month TEXT NOT NULL,
    outbox_id TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    PRIMARY KEY (msisdn, month)
);
CREATE TABLE statement_schedule_months (
    month TEXT PRIMARY KEY,
    finished_at BIGINT NOT NULL
);
CREATE TABLE routing_tables (
    version BIGSERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    segments_csv TEXT NOT NULL,
    portability_csv TEXT,
    segment_count BIGINT NOT NULL,
    ported_count BIGINT NOT NULL,
    imported_at BIGINT NOT NULL
);
CREATE TABLE national_blacklist (
    msisdn TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
"#];

/// The platform's schema on PostgreSQL.
pub(super) const POSTGRES_SCHEMA: PostgresSchema = PostgresSchema::new(MIGRATIONS);
