//! The operator's doors: every operator action with its console page or form, its `numbind` command and its API
//! route. The console and the API are served by the platform, the commands by this binary; the test at the bottom
//! fails when a door lacks an action that another door has. Compiled for tests only: a new action starts here.

/// One thing an operator does, and where: `None` only with the reason in `only_here`.
pub(crate) struct OperatorAction {
    pub(crate) action: &'static str,
    /// `METHOD /console/...` as the console's router names it.
    pub(crate) console: Option<&'static str>,
    /// The command words after `numbind`, then any flag that selects the action (`operator bindings --reveal-reason`).
    pub(crate) command: &'static str,
    /// `METHOD /v1/operator/...` as the platform's router names it; several when one action has several routes.
    pub(crate) api: &'static [&'static str],
    /// Why a door is missing, when one is.
    pub(crate) only_here: Option<&'static str>,
}

const fn action(
    action: &'static str,
    console: &'static str,
    command: &'static str,
    api: &'static [&'static str],
) -> OperatorAction {
    OperatorAction { action, console: Some(console), command, api, only_here: None }
}

/// Every operator action at every door.
pub(crate) const OPERATOR_ACTIONS: &[OperatorAction] = &[
    action(
        "activations issued and refused over time",
        "GET /console",
        "operator activity",
        &["GET /v1/operator/activity"],
    ),
    action("search bindings", "GET /console/bindings", "operator bindings", &["GET /v1/operator/bindings"]),
    action(
        "reveal full numbers with an audited reason",
        "POST /console/bindings/reveal",
        "operator bindings --reveal-reason",
        &["GET /v1/operator/bindings"],
    ),
    action(
        "a terminal's history",
        "GET /console/terminals/{terminal_id}",
        "operator history",
        &["GET /v1/operator/terminals/{terminal_id}/history"],
    ),
    action(
        "unbind a terminal",
        "POST /console/terminals/{terminal_id}/unbind",
        "operator unbind",
        &["POST /v1/operator/terminals/{terminal_id}/unbind"],
    ),
    action("search payments", "GET /console/payments", "operator payments", &["GET /v1/operator/payments"]),
    action(
        "one payment",
        "GET /console/payments/{payment_id}",
        "operator payments --payment-id",
        &["GET /v1/operator/payments"],
    ),
    action(
        "refund a payment",
        "POST /console/payments/{payment_id}/refund",
        "operator refund",
        &["POST /v1/operator/payments/{payment_id}/refunds"],
    ),
    action(
        "read the audit trail in order",
        "GET /console/exports/{name}",
        "operator audit-events",
        &["GET /v1/operator/audit-events"],
    ),
    action(
        "export bindings, audit events or payments (CSV, JSON Lines)",
        "GET /console/exports/{name}",
        "operator export",
        &[
            "GET /v1/operator/exports/bindings.csv",
            "GET /v1/operator/exports/bindings.jsonl",
            "GET /v1/operator/exports/audit-events.csv",
            "GET /v1/operator/exports/audit-events.jsonl",
            "GET /v1/operator/exports/payments.csv",
            "GET /v1/operator/exports/payments.jsonl",
        ],
    ),
    action(
        "export disputes, refunds or a day's settlement lines (CSV, JSON Lines)",
        "GET /console/exports/{name}",
        "operator export",
        &[
            "GET /v1/operator/exports/disputes.csv",
            "GET /v1/operator/exports/disputes.jsonl",
            "GET /v1/operator/exports/refunds.csv",
            "GET /v1/operator/exports/refunds.jsonl",
            "GET /v1/operator/exports/settlement-lines.csv",
            "GET /v1/operator/exports/settlement-lines.jsonl",
        ],
    ),
    action("list open disputes", "GET /console/disputes", "operator disputes list", &["GET /v1/operator/disputes"]),
    action(
        "refund a disputed charge",
        "POST /console/disputes/{dispute_id}/refund",
        "operator disputes resolve --refund",
        &["POST /v1/operator/disputes/{dispute_id}/resolution"],
    ),
    action(
        "reject a dispute with a reason",
        "POST /console/disputes/{dispute_id}/reject",
        "operator disputes resolve --reject",
        &["POST /v1/operator/disputes/{dispute_id}/resolution"],
    ),
    action(
        "a day's payment ledger and its three-way differences",
        "GET /console/reconciliation",
        "reconcile payments",
        &["GET /v1/operator/payment-ledger", "GET /v1/operator/payment-differences"],
    ),
    action(
        "repair a payment difference",
        "POST /console/reconciliation/repair",
        "reconcile payments repair",
        &["POST /v1/operator/payment-repairs"],
    ),
    OperatorAction {
        action: "choose the console's language",
        console: Some("GET /console/language/{code}"),
        command: "",
        api: &[],
        only_here: Some("a browser's display choice: commands print English tables or JSON, the API answers JSON"),
    },
    OperatorAction {
        action: "compare the platform's active bindings with the OSS's",
        console: None,
        command: "reconcile",
        api: &["GET /v1/operator/reconciliation-snapshot"],
        only_here: Some(
            "the comparison needs the OSS's admin token, which the platform (and so its console) never holds",
        ),
    },
    OperatorAction {
        action: "create or revoke operator tokens",
        console: None,
        command: "operator token",
        api: &[],
        only_here: Some(
            "tokens are made on the platform's database file by whoever may read it, not by a token holder",
        ),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::collections::BTreeSet;

    /// `METHOD PATH` of every `.route(...)` in a router's source, the `prefix` put before each path.
    fn routes_in(source: &str, prefix: &str) -> BTreeSet<String> {
        let mut routes = BTreeSet::new();
        for part in source.split(".route(").skip(1) {
            let Some(path) = part.split('"').nth(1) else { continue };
            let handlers = part.split(".route(").next().unwrap_or_default();
            let handlers = handlers.split([';', '\n']).take(3).collect::<String>();
            for method in ["get", "post", "put", "patch", "delete"] {
                if handlers.contains(&format!("{method}(")) {
                    let path = format!("{prefix}{path}");
                    routes.insert(format!("{} {}", method.to_uppercase(), path.trim_end_matches('/')));
                }
            }
        }
        routes
    }

    /// The command at `words` (`operator history`) in the clap tree, and whether it takes `--flag` when one is named.
    fn command_exists(words: &str) -> bool {
        let root = crate::Cli::command();
        let mut command = &root;
        for word in words.split_whitespace() {
            match word.strip_prefix("--") {
                Some(flag) => return command.get_arguments().any(|argument| argument.get_long() == Some(flag)),
                None => match command.find_subcommand(word) {
                    Some(next) => command = next,
                    None => return false,
                },
            }
        }
        true
    }

    #[test]
    fn every_operator_action_is_at_every_door() {
        let api_routes = routes_in(include_str!("../platform/src/http/mod.rs"), "");
        let console_routes = routes_in(include_str!("../platform/src/console/mod.rs"), "/console");
        assert!(api_routes.contains("POST /v1/operator/terminals/{terminal_id}/unbind"), "{api_routes:?}");
        assert!(console_routes.contains("GET /console/bindings"), "{console_routes:?}");
        let mut missing = Vec::new();
        for entry in OPERATOR_ACTIONS {
            if !command_exists(entry.command) {
                missing.push(format!("{}: no command `numbind {}`", entry.action, entry.command));
            }
            for route in entry.api.iter().filter(|route| !api_routes.contains(**route)) {
                missing.push(format!("{}: the platform's router has no {route}", entry.action));
            }
            match entry.console {
                Some(route) if !console_routes.contains(route) => {
                    missing.push(format!("{}: the console has no {route}", entry.action));
                }
                None if entry.only_here.is_none() => missing.push(format!("{}: no console page or form", entry.action)),
                _ => {}
            }
            if entry.api.is_empty() && entry.only_here.is_none() {
                missing.push(format!("{}: no API route", entry.action));
            }
        }
        let listed_api: BTreeSet<&str> = OPERATOR_ACTIONS.iter().flat_map(|entry| entry.api.iter().copied()).collect();
        for route in api_routes.iter().filter(|route| route.contains(" /v1/operator/")) {
            if !listed_api.contains(route.as_str()) {
                missing.push(format!("the API route {route} is no listed action"));
            }
        }
        let listed_console: BTreeSet<&str> = OPERATOR_ACTIONS.iter().filter_map(|entry| entry.console).collect();
        let not_actions =
            ["GET /console/console.css", "GET /console/sign-in", "POST /console/sign-in", "POST /console/sign-out"];
        for route in console_routes.iter().filter(|route| !not_actions.contains(&route.as_str())) {
            if !listed_console.contains(route.as_str()) {
                missing.push(format!("the console's {route} is no listed action"));
            }
        }
        let listed_commands: BTreeSet<String> = OPERATOR_ACTIONS
            .iter()
            .filter_map(|entry| entry.command.strip_prefix("operator "))
            .map(|words| words.split_whitespace().next().unwrap_or_default().to_owned())
            .collect();
        let cli = crate::Cli::command();
        let operator = cli.find_subcommand("operator").expect("numbind operator");
        for subcommand in operator.get_subcommands().map(clap::Command::get_name) {
            if !listed_commands.contains(subcommand) {
                missing.push(format!("`numbind operator {subcommand}` is no listed action"));
            }
        }
        assert!(missing.is_empty(), "operator actions missing at a door:\n{}", missing.join("\n"));
    }
}
