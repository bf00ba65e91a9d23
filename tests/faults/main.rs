//! Fault tests: a batch of activations while every component is killed with SIGKILL and restarted, the OSS and
//! the SMS centre are down for a while, every MO SMS is delivered twice and boxes are killed mid-flow. Afterwards
//! every accepted activation is bound exactly once, the platform and the OSS agree, each user got exactly one
//! confirmation and every box's flag is on and intact.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap should fail loudly")]

mod crash_batch;
#[allow(dead_code, unreachable_pub, unused_imports, reason = "shared with the e2e suite, which uses all of it")]
#[path = "../e2e/helpers.rs"]
mod helpers;
#[allow(dead_code, unreachable_pub, reason = "shared with the e2e suite, which uses all of it")]
#[path = "../e2e/launch.rs"]
mod launch;
mod ledger;
mod purchase_batch;
