//! The national hub end to end, every component its own process: one SMS centre routing the short code's MO to
//! the OSS of the sender's home province (by the segment table), one OSS per province (Beijing, Guangdong), each
//! with its own data directory, SMS-centre account and admin API, and the platform sending each binding's
//! revocation to its province's OSS.

use crate::helpers::{
    next_event, numbind, AssembledAddresses, Process, System, OSS_ADMIN_TOKEN, SHORT_CODE, SMSC_OSS_PASSWORD,
    SMSC_PLATFORM_PASSWORD,
};
use crate::launch::{
    free_loopback_address, make_local_authority, platform_command, smsc_command, with_certificate, write_secret,
};
use serde_json::Value;
use std::path::Path;
use tokio::process::Command;

/// The demo segments the provincial OSSes number their demo subscribers from.
const SEGMENTS_CSV: &str = "segment,province\n1380013,BJ\n1380200,GD\n";
/// Active postpaid demo subscribers of each province.
pub(crate) const BEIJING_PAYER: &str = "13800138000";
pub(crate) const GUANGDONG_PAYER: &str = "13802008000";
/// Guangdong's active prepaid demo subscriber.
const GUANGDONG_PREPAID: &str = "13802008001";
/// In no segment of the table.
const UNKNOWN_SEGMENT_PHONE: &str = "13300133000";
/// A Beijing segment's number ported to Guangdong (携号转网 between provinces).
const PORTED_TO_GUANGDONG: &str = "13800139999";
const PROVINCES: [&str; 2] = ["BJ", "GD"];

/// The hub's system; the OSS of `PROVINCES[i]` is `system.processes[2 + i]`.
pub(crate) struct Hub {
    pub(crate) system: System,
    /// Each province's OSS address, in the order of `PROVINCES`.
    pub(crate) oss_addresses: Vec<String>,
}

fn smsc_accounts(root: &Path) -> String {
    let password = root.join("smsc-oss.password");
    let mut text = String::new();
    for province in PROVINCES {
        let system_id = format!("oss-{}", province.to_lowercase());
        text.push_str(&format!(
            "[[accounts]]\nsystem_id = \"{system_id}\"\npassword_file = \"{}\"\nroutes = [\"{SHORT_CODE}\"]\n\
             vendor_tlvs = true\nprovince = \"{province}\"\n\n",
            password.display()
        ));
    }
    text.push_str(&format!(
        "[[accounts]]\nsystem_id = \"platform\"\npassword_file = \"{}\"\nroutes = []\nvendor_tlvs = true\n",
        root.join("smsc-platform.password").display()
    ));
    text
}

fn provincial_oss_command(root: &Path, province: &str, address: &str, platform_url: &str, smpp: &str) -> Command {
    let mut command = numbind();
    command
        .args(["oss-sim", "serve", "--province", province, "--http", address, "--data-dir"])
        .arg(root.join(format!("oss-{}", province.to_lowercase())))
        .args(["--platform-url", platform_url, "--platform-secret-file"])
        .arg(root.join("oss-platform.secret"))
        .args(["--smsc-address", smpp, "--smsc-tls", "--smsc-system-id", &format!("oss-{}", province.to_lowercase())])
        .arg("--smsc-password-file")
        .arg(root.join("smsc-oss.password"))
        .arg("--ca-file")
        .arg(root.join("tls").join("ca.pem"))
        .arg("--platform-public-key-file")
        .arg(root.join("platform-signing.key.pub"))
        .arg("--admin-token-file")
        .arg(root.join("oss-admin.token"))
        .arg("--seed-demo");
    with_certificate(&mut command, root, "oss");
    command
}

impl Hub {
    pub(crate) async fn start() -> Hub {
        let directory = tempfile::tempdir().expect("temp dir");
        let root = directory.path().to_owned();
        write_secret(&root.join("oss-platform.secret"), crate::helpers::OSS_PLATFORM_SECRET);
        write_secret(&root.join("smsc-oss.password"), SMSC_OSS_PASSWORD);
        write_secret(&root.join("smsc-platform.password"), SMSC_PLATFORM_PASSWORD);
        write_secret(&root.join("oss-admin.token"), OSS_ADMIN_TOKEN);
        std::fs::write(root.join("smsc.toml"), smsc_accounts(&root)).expect("smsc accounts");
        std::fs::write(root.join("segments.csv"), SEGMENTS_CSV).expect("segments");
        let portability = format!("number,destination\n{PORTED_TO_GUANGDONG},GD\n");
        std::fs::write(root.join("portability.csv"), portability).expect("portability");
        make_local_authority(&root);
        let mut smsc_command = smsc_command(&root, ["127.0.0.1:0"; 3], &crate::helpers::SystemOptions::default());
        smsc_command.arg("--segments-file").arg(root.join("segments.csv"));
        smsc_command.arg("--portability-file").arg(root.join("portability.csv"));
        let mut smsc = Process::spawn("sms-sim", smsc_command, &root);
        let smsc_addresses = smsc.wait_listening(&["http", "smpp", "smpp-tls"]).await;
        let smpp_tls = smsc_addresses[2].clone();

        let oss_addresses: Vec<String> = PROVINCES.iter().map(|_| free_loopback_address()).collect();
        let oss_urls: Vec<String> = PROVINCES
            .iter()
            .zip(&oss_addresses)
            .map(|(province, address)| format!("{province}=https://{address}"))
            .collect();
        // The platform routes by the tables imported into its database, as an operator installs them.
        let imported = numbind()
            .args(["routing", "import", "--data-dir"])
            .arg(&root)
            .arg(root.join("segments.csv"))
            .arg("--portability-file")
            .arg(root.join("portability.csv"))
            .output()
            .await
            .expect("numbind routing import");
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        let smsc_api_url = format!("http://{}", smsc_addresses[0]);
        let platform_command = hub_platform_command(&root, (&smpp_tls, &smsc_api_url), &oss_urls);
        let mut platform = Process::spawn("platform", platform_command, &root);
        let platform_url = format!("https://{}", platform.wait_listening(&["http"]).await.remove(0));

        let mut processes = vec![smsc, platform];
        for (province, address) in PROVINCES.iter().zip(&oss_addresses) {
            let command = provincial_oss_command(&root, province, address, &platform_url, &smpp_tls);
            let mut oss = Process::spawn(&format!("oss-{province}"), command, &root);
            oss.wait_listening(&["http"]).await;
            processes.push(oss);
        }
        let addresses = AssembledAddresses {
            platform_url,
            smsc_url: format!("http://{}", smsc_addresses[0]),
            oss_url: format!("https://{}", oss_addresses[0]),
            smpp_address: smsc_addresses[1].clone(),
            smpp_tls_address: smpp_tls,
        };
        Hub { system: System::assemble(processes, directory, addresses), oss_addresses }
    }

    pub(crate) fn province_index(province: &str) -> usize {
        PROVINCES.iter().position(|known| *known == province).expect("a hub province")
    }

    /// `kill -9` of one province's OSS.
    pub(crate) async fn kill_oss(&mut self, province: &str) {
        let process = &mut self.system.processes[2 + Self::province_index(province)];
        process.child.start_kill().expect("SIGKILL");
        let _ = process.child.wait().await;
    }

    /// Starts a killed province's OSS again on its address and data directory.
    pub(crate) async fn restart_oss(&mut self, province: &str) {
        let index = Self::province_index(province);
        let root = self.system.directory.path().to_owned();
        let command = provincial_oss_command(
            &root,
            province,
            &self.oss_addresses[index],
            &self.system.platform_url,
            &self.system.smpp_tls_address,
        );
        let mut process = Process::spawn(&format!("oss-{province}-restarted"), command, &root);
        process.wait_listening(&["http"]).await;
        let killed = std::mem::replace(&mut self.system.processes[2 + index], process);
        self.system.processes.push(killed);
    }

    /// The active bindings of `msisdn` at `province`'s OSS.
    async fn oss_active_bindings(&self, province: &str, msisdn: &str) -> Vec<Value> {
        let address = &self.oss_addresses[Self::province_index(province)];
        let url = format!("https://{address}/v1/bindings?msisdn={msisdn}&state=active");
        let body: Value = self.system.oss_admin(self.system.http.get(url)).send().await.unwrap().json().await.unwrap();
        body["bindings"].as_array().cloned().unwrap_or_default()
    }

    /// `numbind reconcile --json` reading the given provinces' OSS: whether it was clean, and its summary.
    async fn reconcile_with(&self, token: &str, provinces: &[&str]) -> (bool, Value) {
        let oss_urls: Vec<String> = provinces
            .iter()
            .map(|province| format!("{province}=https://{}", self.oss_addresses[Self::province_index(province)]))
            .collect();
        let output = numbind()
            .args(["reconcile", "--json", "--platform-url", &self.system.platform_url, "--oss-url"])
            .arg(oss_urls.join(","))
            .arg("--ca-file")
            .arg(&self.system.ca_file)
            .env("NUMBIND_OPERATOR_TOKEN", token)
            .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
            .output()
            .await
            .expect("numbind reconcile");
        let summary = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("reconcile printed no JSON: {}", String::from_utf8_lossy(&output.stderr)));
        (output.status.success(), summary)
    }

    /// Reconciliation reads every province's OSS: clean with both; with Guangdong's left out, Guangdong's binding
    /// is named as missing in the OSS.
    async fn reconciles_across_provinces(&self, token: &str) {
        let (clean, summary) = self.reconcile_with(token, &PROVINCES).await;
        assert!(clean, "{summary}");
        assert_eq!((summary["platform_active"].as_u64(), summary["oss_active"].as_u64()), (Some(2), Some(2)));
        let (clean, summary) = self.reconcile_with(token, &["BJ"]).await;
        assert!(!clean, "{summary}");
        let differences = summary["differences"].as_array().expect("differences");
        assert_eq!(differences.len(), 1, "{summary}");
        assert_eq!(differences[0]["kind"], "missing_in_oss");
        let masked = format!("{}****{}", &GUANGDONG_PAYER[..3], &GUANGDONG_PAYER[7..]);
        assert_eq!(differences[0]["msisdn_masked"], masked.as_str());
    }

    /// An operator unbinds the box `msisdn` pays for, through the platform's API.
    async fn operator_unbind(&self, token: &str, msisdn: &str) {
        let terminal_id = self.platform_terminal_of(msisdn);
        let response = self
            .system
            .http
            .post(format!("{}/v1/operator/terminals/{terminal_id}/unbind", self.system.platform_url))
            .bearer_auth(token)
            .json(&serde_json::json!({ "reason": "customer asked by phone" }))
            .send()
            .await
            .expect("operator unbind");
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// Waits until `province`'s OSS holds no active binding of `msisdn` (the platform's revocation arrived).
    async fn wait_until_revoked_at(&self, province: &str, msisdn: &str) {
        let deadline = tokio::time::Instant::now() + crate::helpers::FLOW_TIMEOUT;
        while !self.oss_active_bindings(province, msisdn).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "{province}'s OSS never heard of the revocation");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The terminal `msisdn` is bound to, at the platform.
    fn platform_terminal_of(&self, msisdn: &str) -> String {
        let database = rusqlite::Connection::open(self.system.path("platform.db")).expect("platform.db");
        database
            .query_row("SELECT terminal_id FROM bindings WHERE msisdn = ?1", [msisdn], |row| row.get(0))
            .expect("the number's binding")
    }

    /// The province and routing table version the platform recorded with `msisdn`'s binding.
    fn platform_route_of(&self, msisdn: &str) -> (Option<String>, Option<String>) {
        let database = rusqlite::Connection::open(self.system.path("platform.db")).expect("platform.db");
        database
            .query_row("SELECT province, routing_version FROM bindings WHERE msisdn = ?1", [msisdn], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("the number's binding")
    }
}

/// The platform with one `--oss-url PROVINCE=URL` per province (the routing tables imported in its database).
fn hub_platform_command(root: &Path, smsc: (&str, &str), oss_urls: &[String]) -> Command {
    let options = crate::helpers::SystemOptions::default();
    let mut command = platform_command(root, "127.0.0.1:0", smsc, &oss_urls[0], &options);
    for oss_url in &oss_urls[1..] {
        command.arg("--oss-url").arg(oss_url);
    }
    command
}

/// Two boxes bound at the same moment by numbers of two provinces: each binding is made by its own province's
/// OSS (and only there), the platform records the province and the routing table's version, and an operator's
/// unbind of the Guangdong box reaches Guangdong's OSS.
#[tokio::test(flavor = "multi_thread")]
async fn numbers_of_two_provinces_bind_at_once_each_through_its_own_oss() {
    let hub = Hub::start().await;
    let (beijing, guangdong) = tokio::join!(
        hub.system.bind_a_box("beijing", BEIJING_PAYER),
        hub.system.bind_a_box("guangdong", GUANGDONG_PAYER)
    );
    assert_eq!((beijing["event"].as_str(), guangdong["event"].as_str()), (Some("bound"), Some("bound")));
    assert_eq!(hub.oss_active_bindings("BJ", BEIJING_PAYER).await.len(), 1);
    assert_eq!(hub.oss_active_bindings("GD", GUANGDONG_PAYER).await.len(), 1);
    assert!(hub.oss_active_bindings("GD", BEIJING_PAYER).await.is_empty(), "Guangdong never saw Beijing's number");
    assert!(hub.oss_active_bindings("BJ", GUANGDONG_PAYER).await.is_empty(), "Beijing never saw Guangdong's number");
    let (province, version) = hub.platform_route_of(BEIJING_PAYER);
    assert_eq!(province.as_deref(), Some("BJ"));
    assert_eq!(version.map(|version| version.len()), Some(16), "the routing table's version is recorded");
    assert_eq!(hub.platform_route_of(GUANGDONG_PAYER).0.as_deref(), Some("GD"));

    let token = hub.system.admin_token().await;
    let output = numbind()
        .args(["operator", "bindings", "--json", "--province", "GD", "--platform-url", &hub.system.platform_url])
        .arg("--ca-file")
        .arg(&hub.system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", &token)
        .output()
        .await
        .expect("numbind operator bindings");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listed: Value = serde_json::from_slice(&output.stdout).expect("json");
    let provinces: Vec<&Value> =
        listed["bindings"].as_array().expect("bindings").iter().map(|b| &b["province"]).collect();
    assert_eq!(provinces, vec![&Value::from("GD")], "only Guangdong's binding: {listed}");
    hub.reconciles_across_provinces(&token).await;
    hub.operator_unbind(&token, GUANGDONG_PAYER).await;
    hub.wait_until_revoked_at("GD", GUANGDONG_PAYER).await;
    assert_eq!(hub.oss_active_bindings("BJ", BEIJING_PAYER).await.len(), 1, "Beijing's binding stands");
}

/// A number in no segment of the table reaches no OSS: the SMS centre answers it with a refusal that says why.
#[tokio::test(flavor = "multi_thread")]
async fn a_number_of_an_unknown_segment_is_refused_with_a_clear_sms() {
    let hub = Hub::start().await;
    let mut agent = hub.system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    hub.system.phone_sends(UNKNOWN_SEGMENT_PHONE, activation["sms_text"].as_str().unwrap()).await;
    let inbox = hub.system.wait_for_sms(UNKNOWN_SEGMENT_PHONE, "号码归属地未知").await;
    assert_eq!(inbox.len(), 1, "only the refusal: {inbox:?}");
    for province in PROVINCES {
        assert!(hub.oss_active_bindings(province, UNKNOWN_SEGMENT_PHONE).await.is_empty());
    }
}

/// With Guangdong's OSS killed, a Beijing number binds as usual; Guangdong's pending work (a number's SMS sent
/// meanwhile, waiting at the SMS centre; an operator's revocation, waiting in Guangdong's queue at the platform)
/// completes once its OSS is back, each once.
#[tokio::test(flavor = "multi_thread")]
async fn with_one_provinces_oss_killed_the_other_binds_normally() {
    let mut hub = Hub::start().await;
    hub.system.bind_a_box("guangdong-old", GUANGDONG_PREPAID).await;
    let token = hub.system.admin_token().await;
    hub.kill_oss("GD").await;
    hub.operator_unbind(&token, GUANGDONG_PREPAID).await;
    let mut waiting = hub.system.agent("guangdong", &["run"]);
    let activation = next_event(&mut waiting, &["activation"]).await;
    hub.system.phone_sends(GUANGDONG_PAYER, activation["sms_text"].as_str().unwrap()).await;

    hub.system.bind_a_box("beijing", BEIJING_PAYER).await;
    assert_eq!(hub.oss_active_bindings("BJ", BEIJING_PAYER).await.len(), 1);

    hub.restart_oss("GD").await;
    next_event(&mut waiting, &["bound"]).await;
    assert_eq!(hub.oss_active_bindings("GD", GUANGDONG_PAYER).await.len(), 1, "bound once, nothing duplicated");
    hub.wait_until_revoked_at("GD", GUANGDONG_PREPAID).await;
    // The OSS answers before the platform records the answer: wait for the record.
    let database = rusqlite::Connection::open(hub.system.path("platform.db")).expect("platform.db");
    let outbox_of_guangdong = || -> (i64, i64) {
        let sql = "SELECT count(*), coalesce(sum(state = 'delivered'), 0) FROM outbox_oss WHERE province = 'GD'";
        database.query_row(sql, [], |row| Ok((row.get(0)?, row.get(1)?))).expect("outbox_oss")
    };
    let deadline = tokio::time::Instant::now() + crate::helpers::FLOW_TIMEOUT;
    while outbox_of_guangdong().1 == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (queued, delivered) = outbox_of_guangdong();
    assert_eq!((queued, delivered), (1, 1), "one revocation, delivered once it could be");
}

/// `numbind routing import`: a malformed segment CSV imports nothing and names its bad line; each new content is
/// a new version, the same content again is not, and `routing show` names the active one.
#[tokio::test(flavor = "multi_thread")]
async fn routing_tables_are_imported_all_or_nothing_as_versions() {
    let directory = tempfile::tempdir().unwrap();
    let csv = directory.path().join("segments.csv");
    let routing = |arguments: &[&str]| {
        let mut command = numbind();
        command.arg("routing").args(arguments).arg("--data-dir").arg(directory.path());
        command
    };
    std::fs::write(&csv, "segment,province\n1380100,BJ\n1380200,XX\n").unwrap();
    let refused = routing(&["import"]).arg(&csv).output().await.unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("nothing was imported") && said.contains("line 3"), "{said}");
    let shown = routing(&["show"]).output().await.unwrap();
    assert!(!shown.status.success(), "no version after a refused import");

    std::fs::write(&csv, SEGMENTS_CSV).unwrap();
    let first = routing(&["import"]).arg(&csv).output().await.unwrap();
    assert!(String::from_utf8_lossy(&first.stdout).contains("imported as version 1"), "{first:?}");
    let again = routing(&["import"]).arg(&csv).output().await.unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("unchanged: already version 1"), "{again:?}");
    std::fs::write(&csv, format!("{SEGMENTS_CSV}1390100,BJ\n")).unwrap();
    let second = routing(&["import"]).arg(&csv).output().await.unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("imported as version 2"), "{second:?}");
    let shown = routing(&["show", "--json"]).output().await.unwrap();
    let active: Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!((active["version"].as_i64(), active["segments"].as_i64()), (Some(2), Some(3)), "{active}");
}

/// A number of Beijing's segment ported to Guangdong binds through Guangdong's OSS, where it is a subscriber, by
/// the portability table the SMS centre and the platform both hold.
#[tokio::test(flavor = "multi_thread")]
async fn a_ported_number_binds_through_its_new_province() {
    let hub = Hub::start().await;
    let guangdong = &hub.oss_addresses[Hub::province_index("GD")];
    let subscriber = serde_json::json!({
        "msisdn": PORTED_TO_GUANGDONG, "status": "active", "plan": "postpaid", "device_limit": 2, "balance_fen": 0
    });
    let request = hub.system.http.post(format!("https://{guangdong}/v1/subscribers"));
    let response = hub.system.oss_admin(request).json(&subscriber).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 201);

    hub.system.bind_a_box("ported", PORTED_TO_GUANGDONG).await;
    assert_eq!(hub.oss_active_bindings("GD", PORTED_TO_GUANGDONG).await.len(), 1);
    assert!(
        hub.oss_active_bindings("BJ", PORTED_TO_GUANGDONG).await.is_empty(),
        "its old segment's province saw nothing"
    );
    assert_eq!(hub.platform_route_of(PORTED_TO_GUANGDONG).0.as_deref(), Some("GD"));
}
