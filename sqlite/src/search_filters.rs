//! Search statements built from the filters a caller actually gave, so that each combination is planned with its index.
//!
//! A condition such as `(?2 IS NULL OR msisdn = ?2)` can use no index: one statement for every combination of
//! filters walks the whole table for any of them. A search built here names only the filters present; its text
//! comes from fixed fragments only, and every value stays a bound parameter.

/// Appends ` AND {condition} ?n` to `sql` for each present value, numbered after the parameters already in
/// `parameters`, and pushes the value. `condition` is fixed text such as `"msisdn ="`.
pub fn push_present_conditions<V>(
    sql: &mut String,
    parameters: &mut Vec<V>,
    conditions: impl IntoIterator<Item = (&'static str, Option<V>)>,
) {
    for (condition, value) in conditions {
        let Some(value) = value else { continue };
        parameters.push(value);
        sql.push_str(&format!(" AND {condition} ?{}", parameters.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_present_filters_become_conditions_numbered_after_the_parameters_already_bound() {
        let mut sql = "SELECT * FROM bindings WHERE rowid > ?1".to_owned();
        let mut parameters = vec!["cursor"];
        let conditions = [("msisdn =", None), ("terminal_id =", Some("STB-000001")), ("state =", Some("active"))];
        push_present_conditions(&mut sql, &mut parameters, conditions);
        assert_eq!(sql, "SELECT * FROM bindings WHERE rowid > ?1 AND terminal_id = ?2 AND state = ?3");
        assert_eq!(parameters, ["cursor", "STB-000001", "active"]);
    }
}
