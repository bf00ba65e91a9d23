//! The reference of every configuration file key (`docs/CONFIGURATION.md`), written from the same clap arguments
//! the file sets, so the document cannot drift from the code: a test compares the two.

use crate::config_file::{file_argument, is_file_settable, ConfigFileSource};
use clap::Command;
use std::fmt::Write;

/// One service's part of the reference.
pub struct ReferenceSection<'a> {
    /// The program (`numbind-platform`).
    pub program: &'a str,
    /// The file the package ships (`/etc/numbind/platform.toml`).
    pub shipped_file: &'a str,
    /// The command whose flags the file sets (root or the top-level keys' subcommand inside it).
    pub command: Command,
    /// Where the file is named and which subcommand its top-level keys configure.
    pub source: ConfigFileSource<'a>,
    /// Subcommands whose flags a `[name]` table sets.
    pub sections: &'a [&'a str],
}

/// The Markdown reference of every key of each section's file.
pub fn reference_markdown(sections: Vec<ReferenceSection<'_>>) -> String {
    let mut text = String::new();
    for section in sections {
        let _ = writeln!(text, "## `{}`\n", section.program);
        let _ = writeln!(
            text,
            "Shipped as `{}`; named with `--config FILE` or `{}`.\n",
            section.shipped_file, section.source.environment_variable
        );
        let mut command = section.command;
        command.build();
        let top = match section.source.subcommand {
            Some(name) => command.find_subcommand(name).cloned().unwrap_or_else(|| Command::new(name.to_owned())),
            None => command.clone(),
        };
        if !section.source.own_keys.is_empty() {
            let own: Vec<String> = section.source.own_keys.iter().map(|key| format!("`{key}`")).collect();
            let _ = writeln!(text, "The service also reads its own keys from this file: {}.\n", own.join(", "));
        }
        write_table(&mut text, &top, "");
        for name in section.sections {
            if let Some(subcommand) = command.find_subcommand(name) {
                let _ = writeln!(text, "\nIn a `[{name}]` table (flags of `{} {name}`):\n", section.program);
                write_table(&mut text, subcommand, &format!("{name}."));
            }
        }
        text.push('\n');
    }
    text
}

fn write_table(text: &mut String, command: &Command, prefix: &str) {
    let _ = writeln!(text, "| key | flag | environment variable | default | meaning |");
    let _ = writeln!(text, "|---|---|---|---|---|");
    let mut arguments: Vec<&clap::Arg> =
        command.get_arguments().filter(|argument| is_file_settable(argument)).collect();
    arguments.sort_by_key(|argument| argument.get_long().unwrap_or_default().to_owned());
    for argument in arguments {
        let long = argument.get_long().unwrap_or_default();
        let key = long.replace('-', "_");
        debug_assert!(file_argument(command, &key).is_some());
        let environment = argument
            .get_env()
            .map(|variable| format!("`{}`", variable.to_string_lossy()))
            .unwrap_or_else(|| "—".to_owned());
        let defaults: Vec<String> =
            argument.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
        let default = if defaults.is_empty() { "—".to_owned() } else { format!("`{}`", defaults.join(",")) };
        let help = argument.get_help().map(|help| help.to_string()).unwrap_or_default().replace('|', "\\|");
        let help = help.replace('\n', " ");
        let _ = writeln!(text, "| `{prefix}{key}` | `--{long}` | {environment} | {default} | {help} |");
    }
}
