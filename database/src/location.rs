//! Where a component's database is: an SQLite file (a path, or `sqlite:PATH`) or a PostgreSQL server
//! (`postgres://...` or `postgresql://...`).

use std::path::PathBuf;

/// A database location as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Why a database location was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocationError {
    #[error("the database location is empty")]
    Empty,
    #[error("unknown database scheme {0:?}: give a file path, sqlite:PATH or postgres://...")]
    UnknownScheme(String),
}

impl DatabaseLocation {
    pub fn parse(text: &str) -> Result<DatabaseLocation, LocationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(LocationError::Empty);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseLocation::Postgres(text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            return if path.is_empty() { Err(LocationError::Empty) } else { Ok(DatabaseLocation::Sqlite(path.into())) };
        }
        match text.split_once("://") {
            Some((scheme, _)) => Err(LocationError::UnknownScheme(scheme.to_owned())),
            None => Ok(DatabaseLocation::Sqlite(text.into())),
        }
    }

    /// The location for logs: a PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(path) => path.display().to_string(),
            DatabaseLocation::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let credentials = &url[scheme_end + 3..at];
                    let user = credentials.split(':').next().unwrap_or_default();
                    format!("{}{user}@{}", &url[..scheme_end + 3], &url[at + 1..])
                }
                _ => url.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_or_sqlite_prefix_is_sqlite_and_a_postgres_url_is_postgres() {
        assert_eq!(
            DatabaseLocation::parse("/var/lib/numbind/platform.db"),
            Ok(DatabaseLocation::Sqlite("/var/lib/numbind/platform.db".into()))
        );
        assert_eq!(DatabaseLocation::parse("sqlite:platform.db"), Ok(DatabaseLocation::Sqlite("platform.db".into())));
        assert_eq!(
            DatabaseLocation::parse("postgres://numbind@db1,db2/numbind?target_session_attrs=read-write"),
            Ok(DatabaseLocation::Postgres("postgres://numbind@db1,db2/numbind?target_session_attrs=read-write".into()))
        );
        assert_eq!(DatabaseLocation::parse("mysql://x"), Err(LocationError::UnknownScheme("mysql".into())));
        assert_eq!(DatabaseLocation::parse(" "), Err(LocationError::Empty));
    }

    #[test]
    fn a_described_postgres_url_has_no_password() {
        let location = DatabaseLocation::parse("postgres://numbind:secret@db1:5432/numbind").unwrap();
        assert_eq!(location.describe(), "postgres://numbind@db1:5432/numbind");
    }
}
