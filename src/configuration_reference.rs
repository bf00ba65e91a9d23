//! The check that `docs/CONFIGURATION.md` is the reference the code writes: every configuration file key of each
//! service, from the same clap arguments its `--config` file sets. `NUMBIND_WRITE_CONFIGURATION_REFERENCE=1`
//! rewrites the document instead of comparing.

use clap::{Args, Command};
use numbind_process::config_file::ConfigFileSource;
use numbind_process::config_reference::{reference_markdown, ReferenceSection};

const INTRODUCTION: &str = "# numbind configuration files

Every service reads a TOML file named with `--config FILE` (or its environment variable). Each key is one of the
service's flags with `_` for `-` (`data_dir = \"/var/lib/numbind/platform\"` for `--data-dir`); a flag or an
environment variable given at start overrides the file, and the file overrides the built-in default. The file is
refused at start, naming the path and the key, when it is not TOML, names a key no flag has, gives a value the
flag refuses, or holds a secret inline: secrets stay in files named by the `*_file` keys, readable only by the
service's user. Each service logs at start which file it read. Every service also takes `log_json = true` (JSON
log lines) and `log_level` (`--log-level`, `NUMBIND_LOG_LEVEL`: `RUST_LOG` directives such as `warn` or
`info,numbind_platform=debug`, default `info`; `RUST_LOG` itself, when set, wins), which SIGHUP re-reads from the
file: the service then logs the level in force. The Debian package `numbind` ships these files in
`/etc/numbind/`, `numbind-agent` ships `/etc/numbind/agent.toml`.

This document is written by the code (`src/configuration_reference.rs`); a test fails when they differ.
Regenerate it with `NUMBIND_WRITE_CONFIGURATION_REFERENCE=1 cargo test -p numbind --bin numbind configuration_reference`.

";

/// The reference as the code defines it.
fn reference() -> String {
    let platform = numbind_platform::cli::Args::augment_args(Command::new("numbind-platform"));
    let oss = numbind_oss_sim::cli::Args::augment_args(Command::new("numbind-oss-sim"));
    let sms_centre = Command::new("numbind-sms-sim")
        .subcommand(numbind_sms_sim::cli::ServeArgs::augment_args(Command::new("serve")));
    let agent = numbind_device_agent::cli::Args::augment_args(Command::new("numbind-agent"));
    let source =
        |environment_variable, subcommand, own_keys| ConfigFileSource { environment_variable, subcommand, own_keys };
    let sections = vec![
        ReferenceSection {
            program: "numbind-platform",
            shipped_file: "/etc/numbind/platform.toml",
            command: platform,
            source: source("NUMBIND_PLATFORM_CONFIG", None, &[]),
            sections: &[],
        },
        ReferenceSection {
            program: "numbind-oss-sim serve",
            shipped_file: "/etc/numbind/oss.toml",
            command: oss,
            source: source("NUMBIND_OSS_CONFIG", Some("serve"), &[]),
            sections: &[],
        },
        ReferenceSection {
            program: "numbind-sms-sim serve",
            shipped_file: "/etc/numbind/smsc.toml (also its accounts file: `[[accounts]]`, `max_queue`)",
            command: sms_centre,
            source: source("NUMBIND_SMSC_CONFIG", Some("serve"), &["accounts", "max_queue"]),
            sections: &[],
        },
        ReferenceSection {
            program: "numbind-agent",
            shipped_file: "/etc/numbind/agent.toml",
            command: agent,
            source: source("NUMBIND_AGENT_CONFIG", None, &[]),
            sections: &["watch", "run"],
        },
    ];
    format!("{INTRODUCTION}{}", reference_markdown(sections)).trim_end().to_owned() + "\n"
}

#[test]
fn configuration_reference_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/CONFIGURATION.md");
    let written = reference();
    if std::env::var_os("NUMBIND_WRITE_CONFIGURATION_REFERENCE").is_some() {
        std::fs::write(&path, &written).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == written,
        "{} differs from the code's reference; regenerate it with NUMBIND_WRITE_CONFIGURATION_REFERENCE=1",
        path.display()
    );
}
