//! The routing of a hub started by `numbind up`: the demo table imported into the platform's database on the first
//! start, and the SMS centre routing by the table the platform routes by.

use anyhow::Context;
use std::path::Path;

/// At a hub's first start: the demo segment table imported into the platform's database (an operator's import
/// is kept), before the platform opens it.
pub(crate) async fn import_the_demo_routing_once(platform_database: &Path) -> anyhow::Result<()> {
    let database = platform_database.to_owned();
    let now = numbind_process::clock::now_unix_seconds();
    let demo = numbind_routing::DEMO_SEGMENTS_CSV;
    let import = move || numbind_platform::routing_admin::import_routing_tables_if_none(&database, demo, now);
    tokio::task::spawn_blocking(import).await??;
    Ok(())
}

/// At a hub the SMS centre routes by the table the platform routes by (the version active in its database, which
/// the platform follows as new ones are imported), and takes the platform's current one again on SIGHUP. It reads
/// it from the platform in memory: a second connection to the platform's database in the same process would
/// share, and on closing drop, the process's POSIX locks on that file.
pub(crate) fn follow_the_platforms_routing(
    platform: &numbind_platform::PreparedPlatform,
    smsc: &mut numbind_sms_sim::Config,
) -> anyhow::Result<()> {
    let routing = platform.routing();
    smsc.routing = Some(routing.table().context("the platform of a hub routes by no table")?);
    let load = move || routing.table().context("the platform routes by no table");
    smsc.routing_source = Some(numbind_sms_sim::RoutingSource::new("the platform's routing version in use", load));
    Ok(())
}
