//! The database's write figures as Prometheus counters, read at each scrape: commits and the writes they held.

use crate::Database;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

/// Register with `Registry::register_collector`: `database_commits_total` and `database_writes_committed_total`
/// (their ratio is the mean group-commit batch size).
#[derive(Debug)]
pub struct DatabaseWriteCollector {
    database: Database,
}

impl DatabaseWriteCollector {
    pub(crate) fn new(database: Database) -> DatabaseWriteCollector {
        DatabaseWriteCollector { database }
    }
}

impl Collector for DatabaseWriteCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let statistics = self.database.write_statistics();
        let figures = [
            (
                "database_commits",
                "Durable commits (group-commit batches) of the database",
                statistics.batches_committed,
            ),
            (
                "database_writes_committed",
                "Writes durably committed; divided by commits, the mean batch size",
                statistics.writes_committed,
            ),
        ];
        for (name, help, value) in figures {
            let counter = ConstCounter::new(value);
            let metric_encoder = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric_encoder)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Database, DatabaseError, Schema};
    use prometheus_client::registry::Registry;

    #[test]
    fn a_scrape_shows_the_commits_and_writes_so_far() {
        let database = Database::open_in_memory(&Schema::new(&["CREATE TABLE things (name TEXT)"])).unwrap();
        for _ in 0..2 {
            database
                .write(|connection| -> Result<(), DatabaseError> {
                    connection.execute("INSERT INTO things (name) VALUES ('a')", [])?;
                    Ok(())
                })
                .unwrap();
        }
        let mut registry = Registry::default();
        registry.register_collector(Box::new(database.write_collector()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("database_commits_total 2"), "{text}");
        assert!(text.contains("database_writes_committed_total 2"), "{text}");
    }
}
