//! `numbind`: one binary that starts any numbind component, or the whole system with `numbind up`.

mod blacklist_commands;
#[cfg(test)]
mod configuration_reference;
mod merchant_commands;
mod operator_actions;
mod operator_api;
mod operator_commands;
mod operator_disputes;
#[cfg(test)]
mod operator_doors;
mod operator_output;
mod reconcile;
mod reconcile_payments;
mod reconcile_repair;
mod routing_commands;
mod settlement;
mod statement_commands;
mod tls_commands;
mod up;
mod up_config;

use clap::{Parser, Subcommand};

/// numbind: bind a phone number to a set-top box so that the box's billed services are paid by that number.
#[derive(Parser)]
#[command(name = "numbind", version, about, long_about = None)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true, action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform, the OSS and the SMS centre together on loopback, demo subscribers seeded.
    Up(up::UpArgs),
    /// Run the service platform.
    Platform(numbind_platform::cli::Args),
    /// Run the operator OSS, or manage its subscribers.
    #[command(name = "oss-sim", alias = "oss")]
    OssSim(numbind_oss_sim::cli::Args),
    /// Run the SMS centre.
    #[command(name = "sms-sim")]
    SmsSim(numbind_sms_sim::cli::ServeArgs),
    /// Act as a phone: send an SMS, read an inbox.
    Phone(numbind_sms_sim::cli::PhoneArgs),
    /// Run the device agent (the set-top box).
    Agent(numbind_device_agent::cli::Args),
    /// Compare the platform's and the OSS's bindings, or (`payments`) a day's money on all three sides; list
    /// every difference. Exit 0 clean, 1 differences, 2 could not compare.
    Reconcile(reconcile::ReconcileArgs),
    /// Daily settlement files per merchant.
    #[command(subcommand)]
    Settlement(settlement::SettlementCommand),
    /// Verify the platform's hash-chained audit trail.
    #[command(subcommand)]
    Audit(operator_commands::AuditCommand),
    /// Operator access to the platform.
    #[command(subcommand)]
    Operator(operator_commands::OperatorCommand),
    /// Merchants: the services sold on the boxes, with their payments API credentials.
    #[command(subcommand)]
    Merchant(merchant_commands::MerchantCommand),
    /// Monthly statement SMS to the numbers charged in a month.
    #[command(subcommand)]
    Statements(statement_commands::StatementCommand),
    /// Terminal manifests from manufacturers.
    #[command(subcommand)]
    Manifest(operator_commands::ManifestCommand),
    /// The national hub's routing tables (number segments, portability) in the platform's database.
    #[command(subcommand)]
    Routing(routing_commands::RoutingCommand),
    /// The national hub's blacklist: numbers refused nationwide before any province is asked.
    #[command(subcommand)]
    Blacklist(blacklist_commands::BlacklistCommand),
    /// The local certificate authority and the services' TLS certificates.
    #[command(subcommand)]
    Tls(tls_commands::TlsCommand),
    /// Measure numbind against its ceilings in one run; writes bench-report.json and bench-report.md.
    Bench(numbind_bench::cli::Args),
}

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // The bench installs its own subscriber: the services it measures log into a file of its run.
    // The agent's terminal is the box's screen: it logs only when asked (`-v`, `RUST_LOG`, `--log-file`).
    match &cli.command {
        Command::Bench(_) => {}
        Command::Agent(args) => {
            if let Err(error) = numbind_device_agent::cli::init_logging(args, cli.log_json) {
                eprintln!("Error: {error:#}");
                std::process::exit(1);
            }
        }
        _ => numbind_process::init_logging(cli.log_json, numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES),
    }
    let outcome = match cli.command {
        Command::Up(args) => up::up(args).await,
        Command::Platform(args) => numbind_platform::cli::main(args).await,
        Command::OssSim(args) => numbind_oss_sim::cli::main(args).await,
        Command::SmsSim(args) => numbind_sms_sim::cli::serve(args).await,
        Command::Phone(args) => numbind_sms_sim::cli::phone(args).await,
        Command::Agent(args) => numbind_device_agent::cli::main(args).await,
        Command::Reconcile(args) => std::process::exit(reconcile::reconcile(args).await),
        Command::Settlement(command) => settlement::settlement(command).await,
        Command::Audit(command) => operator_commands::audit(command).await,
        Command::Operator(command) => operator_commands::operator(command).await,
        Command::Merchant(command) => merchant_commands::merchant(command),
        Command::Manifest(command) => operator_commands::manifest(command),
        Command::Statements(command) => statement_commands::statements(command),
        Command::Routing(command) => routing_commands::routing(command),
        Command::Blacklist(command) => blacklist_commands::blacklist(command),
        Command::Tls(command) => tls_commands::tls(command),
        Command::Bench(args) => numbind_bench::cli::main(args, cli.log_json).await,
    };
    if let Err(error) = outcome {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag of every subcommand whose name speaks of a secret must take a file, never the secret itself,
    /// so that no secret shows up in `ps` or a shell history.
    #[test]
    fn no_flag_of_any_command_takes_a_secret_as_its_value() {
        fn visit(command: &clap::Command, path: &str, offenders: &mut Vec<String>, flags_seen: &mut usize) {
            for argument in command.get_arguments() {
                let Some(long) = argument.get_long() else { continue };
                *flags_seen += 1;
                let speaks_of_a_secret = ["secret", "password", "token", "key"].iter().any(|word| long.contains(word));
                let names_a_public_thing = long.starts_with("platform-key") || long == "factory-key-file";
                let takes_a_value = argument.get_action().takes_values();
                if speaks_of_a_secret && takes_a_value && !long.ends_with("-file") && !names_a_public_thing {
                    offenders.push(format!("{path} --{long}"));
                }
            }
            for subcommand in command.get_subcommands() {
                visit(subcommand, &format!("{path} {}", subcommand.get_name()), offenders, flags_seen);
            }
        }
        let (mut offenders, mut flags_seen) = (Vec::new(), 0);
        visit(&Cli::command(), "numbind", &mut offenders, &mut flags_seen);
        assert!(flags_seen > 50, "the walk saw the whole command tree ({flags_seen} flags)");
        assert!(offenders.is_empty(), "flags that would put a secret on the command line: {offenders:?}");
    }

    /// One name for one thing: a data directory has one default everywhere, so components started one by one from
    /// the same folder find each other's files.
    #[test]
    fn every_data_dir_flag_defaults_to_the_same_folder() {
        fn visit(command: &clap::Command, path: &str, defaults: &mut Vec<String>) {
            for argument in command.get_arguments().filter(|argument| argument.get_long() == Some("data-dir")) {
                for default in argument.get_default_values() {
                    defaults.push(format!("{path}: {}", default.to_string_lossy()));
                }
            }
            for subcommand in command.get_subcommands() {
                visit(subcommand, &format!("{path} {}", subcommand.get_name()), defaults);
            }
        }
        let mut defaults = Vec::new();
        visit(&Cli::command(), "numbind", &mut defaults);
        assert!(defaults.iter().any(|default| default.starts_with("numbind sms-sim")), "{defaults:?}");
        let others: Vec<&String> = defaults.iter().filter(|default| !default.ends_with(": ./data")).collect();
        assert!(others.is_empty(), "data directories defaulting elsewhere: {others:?}");
    }
}
