//! The SMS centre's routing tables read again on SIGHUP (`systemctl reload`, `kill -HUP`): from the operator's
//! files (`--segments-file`, `--portability-file`), or under `numbind up` from the version imported into the
//! platform's database. A table that does not load, or does not fit the accounts, is logged and the routes in
//! use are kept; a good one is swapped in for the next MO and its version logged.

use crate::domain::routing::Routes;
use crate::state::AppState;
use numbind_routing::RoutingTable;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

type LoadRoutingTable = dyn Fn() -> anyhow::Result<RoutingTable> + Send + Sync;

/// Where the routing tables are read again on SIGHUP.
#[derive(Clone)]
pub struct RoutingSource {
    /// What it reads, for the log (`segments.csv and portability.csv`).
    description: String,
    load: Arc<LoadRoutingTable>,
}

impl RoutingSource {
    /// Reads the tables with `load`, described as `description` in the log.
    pub fn new(
        description: impl Into<String>,
        load: impl Fn() -> anyhow::Result<RoutingTable> + Send + Sync + 'static,
    ) -> RoutingSource {
        RoutingSource { description: description.into(), load: Arc::new(load) }
    }

    /// The segment file and, if given, the portability file; either bad refuses both.
    pub fn files(segments: PathBuf, portability: Option<PathBuf>) -> RoutingSource {
        let description = match &portability {
            Some(portability) => format!("{} and {}", segments.display(), portability.display()),
            None => segments.display().to_string(),
        };
        RoutingSource::new(description, move || Ok(RoutingTable::load(&segments, portability.as_deref())?))
    }

    pub fn load(&self) -> anyhow::Result<RoutingTable> {
        (self.load)()
    }
}

impl fmt::Debug for RoutingSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("RoutingSource").field("description", &self.description).finish_non_exhaustive()
    }
}

/// On each SIGHUP until shutdown, reads `source` again and swaps the routes built from it in. The handler is
/// installed before this returns, so a SIGHUP sent once the SMS centre announced itself never kills it.
pub(crate) fn reload_routes_on_sighup(state: Arc<AppState>, source: RoutingSource) {
    let mut signal = numbind_process::reload_signal::ReloadSignal::install();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = signal.recv() => {}
                () = state.shutdown.cancelled() => return,
            }
            reload_routes(&state, &source).await;
        }
    });
}

async fn reload_routes(state: &AppState, source: &RoutingSource) {
    let reading = source.clone();
    let loaded = tokio::task::spawn_blocking(move || reading.load()).await;
    let table = match loaded {
        Ok(Ok(table)) => table,
        Ok(Err(error)) => {
            let error = format!("{error:#}");
            tracing::error!(source = %source.description, %error, "routing tables not reloaded; routing as before");
            return;
        }
        Err(error) => {
            tracing::error!(source = %source.description, %error, "routing tables not reloaded; routing as before");
            return;
        }
    };
    let version = table.version();
    match Routes::build(&state.config.accounts, Some(table)) {
        Ok(routes) => {
            state.replace_routes(routes);
            tracing::info!(source = %source.description, routing_version = %version, "routing tables reloaded");
        }
        Err(error) => tracing::error!(
            source = %source.description,
            %error,
            "the reloaded routing tables do not fit the accounts; routing as before"
        ),
    }
}
