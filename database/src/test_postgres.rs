//! A fresh PostgreSQL database per test (`numbind_test_<random>`), dropped when the test ends, passed or failed.

use std::time::{SystemTime, UNIX_EPOCH};

/// The server the tests use, overridable with `NUMBIND_TEST_POSTGRES_URL` (trust authentication on this machine).
pub const TEST_POSTGRES_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database made for one test; dropping it drops the database (its connections are ended first).
#[derive(Debug)]
pub struct TestPostgresDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TestPostgresDatabase {
    /// Creates the database on the test server (on a thread of its own, so that async tests may call it too).
    pub fn create() -> Result<TestPostgresDatabase, postgres::Error> {
        std::thread::scope(|scope| scope.spawn(TestPostgresDatabase::create_here).join())
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn create_here() -> Result<TestPostgresDatabase, postgres::Error> {
        let server_url =
            std::env::var("NUMBIND_TEST_POSTGRES_URL").unwrap_or_else(|_| TEST_POSTGRES_SERVER_URL.to_owned());
        let name = format!("numbind_test_{}", random_suffix());
        let mut client = postgres::Client::connect(&server_url, postgres::NoTls)?;
        client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = match server_url.rsplit_once('/') {
            Some((server, database)) if !server.ends_with('/') => {
                let options = database.split_once('?').map(|(_, options)| format!("?{options}")).unwrap_or_default();
                format!("{server}/{name}{options}")
            }
            _ => format!("{server_url}/{name}"),
        };
        Ok(TestPostgresDatabase { server_url, name, url })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestPostgresDatabase {
    fn drop(&mut self) {
        let drop_it = || -> Result<(), postgres::Error> {
            let mut client = postgres::Client::connect(&self.server_url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
        };
        // Dropping runs in another thread: `postgres` blocks on its own runtime, which a test's tokio runtime on
        // this thread would refuse.
        let outcome = std::thread::scope(|scope| scope.spawn(drop_it).join());
        if !matches!(outcome, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos()).unwrap_or(0));
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}
