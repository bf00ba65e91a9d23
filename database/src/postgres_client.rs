//! One PostgreSQL connection as the SQL layer uses it: its statement cache (SQL text translated once, `?1` to
//! `$1`) and its queries with the layer's parameters.

use crate::postgres_values::PostgresValue;
use crate::values::ToSql;
use crate::QueryError;
use std::collections::HashMap;

/// Prepared statements one connection keeps; past this the cache is emptied and refilled (the store has ~150
/// distinct statements, so this happens only with queries built from many filter combinations).
const STATEMENT_CACHE_CAPACITY: usize = 512;

/// A pooled PostgreSQL connection and its prepared statements.
pub struct PostgresClient {
    pub(crate) client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
    /// Set when the connection could not roll back: it is closed instead of going back to the pool.
    pub(crate) broken: bool,
}

impl PostgresClient {
    pub(crate) fn new(client: postgres::Client) -> PostgresClient {
        PostgresClient { client, statements: HashMap::new(), broken: false }
    }

    pub(crate) fn prepare_cached(&mut self, sql: &str) -> Result<postgres::Statement, QueryError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.prepare(sql)?;
        if self.statements.len() >= STATEMENT_CACHE_CAPACITY {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, QueryError> {
        Ok(self.client.prepare(&translate_placeholders(sql))?)
    }

    pub(crate) fn query(
        &mut self,
        statement: &postgres::Statement,
        values: &[&dyn ToSql],
    ) -> Result<Vec<postgres::Row>, QueryError> {
        let values: Vec<PostgresValue<'_>> = values.iter().map(|value| PostgresValue(value.to_value())).collect();
        let parameters: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|value| value as &(dyn postgres::types::ToSql + Sync)).collect();
        Ok(self.client.query(statement, &parameters)?)
    }

    pub(crate) fn execute(
        &mut self,
        statement: &postgres::Statement,
        values: &[&dyn ToSql],
    ) -> Result<usize, QueryError> {
        let values: Vec<PostgresValue<'_>> = values.iter().map(|value| PostgresValue(value.to_value())).collect();
        let parameters: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|value| value as &(dyn postgres::types::ToSql + Sync)).collect();
        let changed = self.client.execute(statement, &parameters)?;
        usize::try_from(changed).map_err(|_| QueryError::IntegerOutOfRange(i64::MAX))
    }

    pub(crate) fn execute_batch(&mut self, sql: &str) -> Result<(), QueryError> {
        Ok(self.client.batch_execute(sql)?)
    }
}

/// SQLite's numbered placeholders (`?1`, and bare `?` counted in order) as PostgreSQL's (`$1`); text inside
/// quotes ('...', "...") is left alone.
pub(crate) fn translate_placeholders(sql: &str) -> String {
    let mut translated = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut bare_count = 0;
    let mut characters = sql.chars().peekable();
    while let Some(character) = characters.next() {
        match (quote, character) {
            (Some(open), _) if character == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(character),
            (None, '?') => {
                translated.push('$');
                if !characters.peek().is_some_and(char::is_ascii_digit) {
                    bare_count += 1;
                    translated.push_str(&bare_count.to_string());
                }
                continue;
            }
            (None, _) => {}
        }
        translated.push(character);
    }
    translated
}

#[cfg(test)]
mod tests {
    use super::translate_placeholders;

    #[test]
    fn numbered_and_bare_placeholders_become_dollar_numbers_outside_quotes() {
        assert_eq!(
            translate_placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
        assert_eq!(translate_placeholders("VALUES (?, ?)"), "VALUES ($1, $2)");
        assert_eq!(
            translate_placeholders("SELECT '?1' || \"a?\" FROM t WHERE x = ?2"),
            "SELECT '?1' || \"a?\" FROM t WHERE x = $2"
        );
    }
}
