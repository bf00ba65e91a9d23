//! The routing table the running platform decides by, shared by the handlers and every OSS client, and swapped
//! in place when `numbind routing import` stores a new version: no restart, no SIGHUP.
//!
//! The platform polls the store for the active version's number every `Config::routing_refresh_interval` (2 s)
//! rather than waiting for a signal: the import is a write to the database, which every platform instance on
//! that database sees, while a signal would reach only the process it is sent to (and `numbind up` runs the
//! platform inside one process with the SMS centre and the OSSes). The poll is one indexed `max(version)`; the
//! tables themselves are read and parsed only when the number changed. A stored version that no longer parses
//! is logged and the table in use is kept. A platform given `--segments-file` routes by that file alone.

use crate::state::AppState;
use numbind_routing::RoutingTable;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

/// The table in use and the stored version it came from (`None`: from the files given at start).
#[derive(Debug)]
pub(crate) struct RoutingInUse {
    pub(crate) table: RoutingTable,
    pub(crate) stored_version: Option<i64>,
}

/// A shared handle on the table in use; clones see the same table, and a swap is seen by all at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveRouting(Arc<RwLock<Option<Arc<RoutingInUse>>>>);

impl ActiveRouting {
    /// The table in use, if the platform routes at all (a hub); held as long as one decision needs it.
    pub(crate) fn current(&self) -> Option<Arc<RoutingInUse>> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn replace(&self, table: RoutingTable, stored_version: Option<i64>) {
        let in_use = Some(Arc::new(RoutingInUse { table, stored_version }));
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = in_use;
    }

    /// Does the platform route (a table from the files or from the store is in use)?
    pub(crate) fn is_routing(&self) -> bool {
        self.current().is_some()
    }
}

/// A read-only view of the table the platform routes by, for a component in the same process (the SMS centre
/// under `numbind up` takes it on SIGHUP rather than opening the platform's database a second time).
#[derive(Debug, Clone)]
pub struct SharedRouting(pub(crate) ActiveRouting);

impl SharedRouting {
    /// A copy of the table in use, if the platform routes.
    pub fn table(&self) -> Option<RoutingTable> {
        self.0.current().map(|in_use| in_use.table.clone())
    }
}

/// Follows the store's active version until `shutdown`: a newer version replaces the table in use. Runs only
/// when the table came from the store (or none was imported yet), never over `--segments-file`.
pub(crate) async fn follow_imported_versions(state: AppState, shutdown: CancellationToken) {
    let interval = state.settings.routing_refresh_interval;
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => return,
        }
        let in_use = state.routing.current().and_then(|in_use| in_use.stored_version);
        let newest = match state.store.call(|store| store.active_routing_version()).await {
            Ok(newest) => newest,
            Err(error) => {
                tracing::warn!(error = %error, "cannot read the active routing version; routing as before");
                continue;
            }
        };
        if newest.is_none() || newest == in_use {
            continue;
        }
        match load_active(&state).await {
            Ok(Some((table, version))) => {
                tracing::info!(version, fingerprint = %table.version(), previous = ?in_use, "routing by a newly imported version");
                state.metrics.routing_version.set(version);
                state.routing.replace(table, Some(version));
            }
            Ok(None) => {}
            Err(error) => tracing::error!(
                error = %format!("{error:#}"),
                in_use = ?in_use,
                "cannot use the newly imported routing version; routing by the one in use"
            ),
        }
    }
}

async fn load_active(state: &AppState) -> anyhow::Result<Option<(RoutingTable, i64)>> {
    let Some(stored) = state.store.call(|store| store.active_routing_table()).await? else { return Ok(None) };
    Ok(Some((crate::routing_admin::routing_table_of(&stored)?, stored.version)))
}
