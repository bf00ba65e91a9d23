//! `numbind up --print-config DIR`: writes every file `numbind up` would use into `DIR` (the shared secrets, the
//! local authority and the services' certificates, the SMS centre's accounts file) and a script with each
//! component's command line, prints those command lines, and exits; run them to start the components one by one.
//! For a hub (`--provinces`, `BJ,GD` by default) it writes one OSS per province (its own data directory
//! `oss-bj/`, SMS-centre account and listener), the demo segment table the SMS centre routes by
//! (`routing/segments.csv`), and imports that table into the platform's database.

use anyhow::Context;
use numbind_routing::ProvinceCode;
use numbind_system::{SystemDescription, Transport};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What the components are told: where each listens, the short code, the activation life.
pub(crate) struct ComponentPlan {
    pub(crate) data_dir: PathBuf,
    pub(crate) platform_http: SocketAddr,
    pub(crate) smsc_http: SocketAddr,
    pub(crate) smsc_smpp: SocketAddr,
    pub(crate) smsc_smpp_tls: SocketAddr,
    pub(crate) oss_http: SocketAddr,
    pub(crate) short_code: String,
    pub(crate) activation_ttl_seconds: u64,
    /// A hub's provinces; empty for the one OSS.
    pub(crate) provinces: Vec<ProvinceCode>,
}

/// The demo segment table the SMS centre of a hub routes by, beside the data.
pub(crate) const SEGMENTS_FILE: &str = "routing/segments.csv";

/// The SMS centre's accounts file, beside the data.
pub(crate) const SMSC_ACCOUNTS_FILE: &str = "smsc-accounts.toml";
/// The script that starts the three components in order.
pub(crate) const COMPONENTS_SCRIPT: &str = "start-components.sh";

/// Writes the files into the plan's data directory and prints one `name: command line` per component, in the order
/// to start them (the OSS reads the key the platform writes at its first start).
pub(crate) fn print_config(mut description: SystemDescription, plan: &ComponentPlan) -> anyhow::Result<()> {
    description.transport = Transport::Tls;
    numbind_system::prepare_data_dir(&description)?;
    let accounts = plan.data_dir.join(SMSC_ACCOUNTS_FILE);
    std::fs::write(&accounts, accounts_file(plan)).with_context(|| format!("writing {}", accounts.display()))?;
    if !plan.provinces.is_empty() {
        write_routing_tables(plan)?;
    }
    let mut commands =
        vec![("sms-sim".to_owned(), smsc_command(plan)), ("platform".to_owned(), platform_command(plan))];
    commands.extend(oss_commands(plan));
    let script_path = plan.data_dir.join(COMPONENTS_SCRIPT);
    let key_file = path(plan, "platform-signing.key.pub");
    std::fs::write(&script_path, script(&commands, &key_file))
        .with_context(|| format!("writing {}", script_path.display()))?;
    let mut stdout = std::io::stdout().lock();
    for (name, words) in &commands {
        writeln!(stdout, "{name}: {}", shell_line(words))?;
    }
    writeln!(
        stdout,
        "files: {} (accounts), {} (secrets), {} (tls), {} (all of them, in order)",
        accounts.display(),
        plan.data_dir.join("secrets").display(),
        plan.data_dir.join("tls").display(),
        script_path.display()
    )?;
    if !plan.provinces.is_empty() {
        let segments = plan.data_dir.join(SEGMENTS_FILE);
        let database = plan.data_dir.join("platform.db");
        writeln!(stdout, "routing: {} (the SMS centre's), imported into {}", segments.display(), database.display())?;
    }
    Ok(())
}

/// The demo segment table for the SMS centre (`routing/segments.csv`), and the same table imported into the
/// platform's database as its first version (an operator's import there is kept).
fn write_routing_tables(plan: &ComponentPlan) -> anyhow::Result<()> {
    let segments = plan.data_dir.join(SEGMENTS_FILE);
    if let Some(directory) = segments.parent() {
        numbind_process::data_dir::create_private_dir(directory)?;
    }
    std::fs::write(&segments, numbind_routing::DEMO_SEGMENTS_CSV)
        .with_context(|| format!("writing {}", segments.display()))?;
    let now = numbind_process::clock::now_unix_seconds();
    numbind_platform::routing_admin::import_routing_tables_if_none(
        &plan.data_dir.join("platform.db"),
        numbind_routing::DEMO_SEGMENTS_CSV,
        now,
    )?;
    Ok(())
}

/// Where province number `index` of a hub (or the one OSS) listens: `--oss-http`, each next one on the next port.
fn oss_address(plan: &ComponentPlan, index: usize) -> SocketAddr {
    let mut address = plan.oss_http;
    address.set_port(plan.oss_http.port().saturating_add(index as u16));
    address
}

/// The SMS-centre account (SMPP system_id) and data directory of a province's OSS: `oss-bj`.
fn provincial_name(province: ProvinceCode) -> String {
    format!("oss-{}", province.as_str().to_ascii_lowercase())
}

fn path(plan: &ComponentPlan, relative: &str) -> String {
    plan.data_dir.join(relative).display().to_string()
}

/// The OSS gets the MO to the short code (at a hub each province's OSS those of its province's numbers), the
/// platform only submits. Without `max_submits_per_second` an account may submit 150 a second. All ask for
/// numbind's TLV 0x1401 (the message ID on every deliver_sm), by which the OSS drops a redelivered MO.
fn accounts_file(plan: &ComponentPlan) -> String {
    let oss_password = path(plan, "secrets/smsc-oss.password");
    let short_code = &plan.short_code;
    let mut text =
        String::from("# The SMS centre's ESME accounts, as `numbind up` has them (numbind sms-sim --config).\n");
    if plan.provinces.is_empty() {
        text.push_str(&format!(
            "[[accounts]]\nsystem_id = \"oss\"\npassword_file = {oss_password:?}\nroutes = [{short_code:?}]\n\
             vendor_tlvs = true\n\n"
        ));
    }
    for province in &plan.provinces {
        text.push_str(&format!(
            "[[accounts]]\nsystem_id = {system_id:?}\npassword_file = {oss_password:?}\nroutes = [{short_code:?}]\n\
             vendor_tlvs = true\nprovince = {province:?}\n\n",
            system_id = provincial_name(*province),
            province = province.as_str(),
        ));
    }
    text.push_str(&format!(
        "[[accounts]]\nsystem_id = \"platform\"\npassword_file = {platform:?}\nroutes = []\nvendor_tlvs = true\n",
        platform = path(plan, "secrets/smsc-platform.password"),
    ));
    text
}

fn data_dir(plan: &ComponentPlan) -> String {
    plan.data_dir.display().to_string()
}

fn certificate(plan: &ComponentPlan, service: &str) -> Vec<String> {
    let pem = path(plan, &format!("tls/{service}.pem"));
    vec!["--tls-certificate-file".into(), pem, "--tls-key-file".into(), path(plan, &format!("tls/{service}.key"))]
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|part| (*part).to_owned()).collect()
}

fn smsc_command(plan: &ComponentPlan) -> Vec<String> {
    let (http, smpp, smpp_tls) =
        (plan.smsc_http.to_string(), plan.smsc_smpp.to_string(), plan.smsc_smpp_tls.to_string());
    let mut command = words(&["numbind", "sms-sim", "--http", &http, "--smpp", &smpp, "--smpp-tls", &smpp_tls]);
    command.extend(words(&["--data-dir", &data_dir(plan), "--config", &path(plan, SMSC_ACCOUNTS_FILE)]));
    if !plan.provinces.is_empty() {
        command.extend(words(&["--segments-file", &path(plan, SEGMENTS_FILE)]));
    }
    command.extend(certificate(plan, "smsc"));
    command
}

fn platform_command(plan: &ComponentPlan) -> Vec<String> {
    let oss_url = if plan.provinces.is_empty() {
        format!("https://{}", plan.oss_http)
    } else {
        let urls = plan
            .provinces
            .iter()
            .enumerate()
            .map(|(index, province)| format!("{}=https://{}", province.as_str(), oss_address(plan, index)));
        urls.collect::<Vec<_>>().join(",")
    };
    let http = plan.platform_http.to_string();
    let mut command = words(&["numbind", "platform", "--http", &http, "--oss-url", &oss_url]);
    command.extend(words(&[
        "--data-dir",
        &data_dir(plan),
        "--oss-secret-file",
        &path(plan, "secrets/oss-platform.secret"),
    ]));
    command.extend(words(&[
        "--smsc-address",
        &plan.smsc_smpp_tls.to_string(),
        "--smsc-tls",
        "--smsc-system-id",
        "platform",
    ]));
    command.extend(words(&["--smsc-password-file", &path(plan, "secrets/smsc-platform.password")]));
    command.extend(words(&["--smsc-api-url", &format!("http://{}", plan.smsc_http)]));
    command.extend(words(&["--ca-file", &path(plan, "tls/ca.pem"), "--short-code", &plan.short_code]));
    command.extend(words(&["--activation-ttl-seconds", &plan.activation_ttl_seconds.to_string()]));
    command.extend(certificate(plan, "platform"));
    command
}

/// The one OSS, or each province's, named as the printed lines name them.
fn oss_commands(plan: &ComponentPlan) -> Vec<(String, Vec<String>)> {
    if plan.provinces.is_empty() {
        return vec![("oss-sim".to_owned(), oss_command(plan, None, 0))];
    }
    let commands = plan.provinces.iter().enumerate().map(|(index, province)| {
        (format!("oss-sim-{}", province.as_str().to_ascii_lowercase()), oss_command(plan, Some(*province), index))
    });
    commands.collect()
}

fn oss_command(plan: &ComponentPlan, province: Option<ProvinceCode>, index: usize) -> Vec<String> {
    let (http, platform_url) = (oss_address(plan, index).to_string(), format!("https://{}", plan.platform_http));
    let (system_id, directory) = match province {
        Some(province) => (provincial_name(province), path(plan, &provincial_name(province))),
        None => ("oss".to_owned(), data_dir(plan)),
    };
    let mut command = words(&["numbind", "oss-sim", "serve", "--http", &http, "--data-dir", &directory]);
    if let Some(province) = province {
        command.extend(words(&["--province", province.as_str()]));
    }
    command.extend(words(&[
        "--platform-url",
        &platform_url,
        "--platform-secret-file",
        &path(plan, "secrets/oss-platform.secret"),
    ]));
    command.extend(words(&[
        "--smsc-address",
        &plan.smsc_smpp_tls.to_string(),
        "--smsc-tls",
        "--smsc-system-id",
        &system_id,
    ]));
    command.extend(words(&[
        "--smsc-password-file",
        &path(plan, "secrets/smsc-oss.password"),
        "--ca-file",
        &path(plan, "tls/ca.pem"),
    ]));
    command.extend(words(&["--platform-public-key-file", &path(plan, "platform-signing.key.pub")]));
    command.extend(words(&[
        "--admin-token-file",
        &path(plan, "secrets/oss-admin.token"),
        "--short-code",
        &plan.short_code,
        "--seed-demo",
    ]));
    command.extend(certificate(plan, "oss"));
    command
}

/// A word for a POSIX shell: as it is when it holds only safe characters, else in single quotes.
fn shell_word(word: &str) -> String {
    let safe = |character: char| character.is_ascii_alphanumeric() || "-_./:=@%+,".contains(character);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn shell_line(words: &[String]) -> String {
    words.iter().map(|word| shell_word(word)).collect::<Vec<_>>().join(" ")
}

/// Starts the SMS centre, the platform, and the OSS (each province's) once the platform wrote its public key
/// (`key_file`); stops them all together.
fn script(commands: &[(String, Vec<String>)], key_file: &str) -> String {
    let mut text = String::from(
        "#!/bin/sh\n# The components `numbind up` runs, each as its own process (numbind up --print-config).\n\
         set -e\ntrap 'kill 0' INT TERM EXIT\n",
    );
    for (name, words) in commands {
        text.push_str(&format!("{} &  # {name}\n", shell_line(words)));
        if *name == "platform" {
            let key_file = shell_word(key_file);
            text.push_str(&format!("until [ -f {key_file} ]; do sleep 0.2; done  # the OSS pins this key\n"));
        }
    }
    text.push_str("wait\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_they_must_be() {
        assert_eq!(shell_word("/tmp/data/tls/ca.pem"), "/tmp/data/tls/ca.pem");
        assert_eq!(shell_word("/tmp/my data"), "'/tmp/my data'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
