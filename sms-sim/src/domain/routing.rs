//! MO routing: the account whose route is the longest prefix of the destination short code.

use crate::config::EsmeAccount;
use numbind_wire::ShortCode;

#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    /// (short code prefix, system_id), longest prefix first.
    entries: Vec<(String, String)>,
}

impl Routes {
    pub(crate) fn from_accounts(accounts: &[EsmeAccount]) -> Routes {
        let mut entries: Vec<(String, String)> = accounts
            .iter()
            .flat_map(|account| {
                account.routes.iter().map(|route| (route.as_str().to_owned(), account.system_id.clone()))
            })
            .collect();
        entries.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Routes { entries }
    }

    /// The system_id that receives MO sent to `destination`.
    pub(crate) fn route(&self, destination: &ShortCode) -> Option<&str> {
        self.entries
            .iter()
            .find(|(prefix, _)| destination.as_str().starts_with(prefix.as_str()))
            .map(|(_, system_id)| system_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ShortCode {
        ShortCode::parse(text).unwrap()
    }

    #[test]
    fn the_longest_matching_prefix_wins() {
        let accounts = vec![
            EsmeAccount::new("wide", "p", vec![code("1065")]),
            EsmeAccount::new("narrow", "p", vec![code("10658000")]),
        ];
        let routes = Routes::from_accounts(&accounts);
        assert_eq!(routes.route(&code("10658000")), Some("narrow"));
        assert_eq!(routes.route(&code("10659999")), Some("wide"));
        assert_eq!(routes.route(&code("95588")), None);
    }
}
