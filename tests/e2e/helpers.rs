//! Test harness: spawns the real `numbind` binary's components on port 0 in a temporary directory (the OSS on a
//! port chosen first, since the platform must know it; the command lines are built in `launch`), every link over
//! TLS with certificates from a local authority made for the test, talks to them like a phone, reads the agent's
//! JSON events, kills children on drop and prints their stderr when a test fails.

pub(crate) use crate::launch::{client_trusting, make_local_authority, write_certificate};
use crate::launch::{
    oss_command, platform_command, replace_platform_certificate, smsc_command, smsc_config_text,
    start_platform_and_oss, with_log_filter, write_secret,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::{timeout, Instant};

pub(crate) const SHORT_CODE: &str = "10658000";
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
pub(crate) const FLOW_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn numbind() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_numbind"));
    command.env("RUST_LOG", "trace,hyper=info,h2=info,reqwest=info,rustls=info").kill_on_drop(true);
    command
}

/// A child process whose stderr goes to a file that is printed if the test fails.
pub(crate) struct Process {
    pub(crate) name: String,
    pub(crate) child: Child,
    stderr_path: PathBuf,
    pub(crate) stdout: Lines<BufReader<ChildStdout>>,
}

impl Process {
    pub(crate) fn spawn(name: &str, command: Command, log_dir: &Path) -> Process {
        Process::spawn_with_stdin(name, command, log_dir, Stdio::null())
    }

    /// `spawn` with the child's stdin (`Stdio::piped()` leaves it in `child.stdin` for the test to write).
    pub(crate) fn spawn_with_stdin(name: &str, mut command: Command, log_dir: &Path, stdin: Stdio) -> Process {
        let stderr_path = log_dir.join(format!("{name}.stderr.log"));
        let stderr = std::fs::File::create(&stderr_path).expect("create stderr log");
        let mut child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|error| panic!("spawning {name}: {error}"));
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Process { name: name.to_owned(), child, stderr_path, stdout }
    }

    /// Reads stdout until every `listening <name>=<addr>` line named is seen; returns the addresses in order.
    pub(crate) async fn wait_listening(&mut self, names: &[&str]) -> Vec<String> {
        self.try_wait_listening(names).await.unwrap_or_else(|| {
            panic!("{} ended or timed out before listening on {names:?}\n{}", self.name, self.stderr())
        })
    }

    /// `wait_listening`, or `None` when the process ends or times out first.
    pub(crate) async fn try_wait_listening(&mut self, names: &[&str]) -> Option<Vec<String>> {
        let mut found: Vec<Option<String>> = vec![None; names.len()];
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while found.iter().any(Option::is_none) {
            let line = self.next_line_before(deadline).await?;
            if let Some(rest) = line.strip_prefix("listening ") {
                if let Some((name, address)) = rest.split_once('=') {
                    if let Some(index) = names.iter().position(|wanted| *wanted == name) {
                        found[index] = Some(address.trim().to_owned());
                    }
                }
            }
        }
        Some(found.into_iter().flatten().collect())
    }

    pub(crate) async fn next_line_before(&mut self, deadline: Instant) -> Option<String> {
        match timeout(deadline.saturating_duration_since(Instant::now()), self.stdout.next_line()).await {
            Ok(Ok(line)) => line,
            _ => None,
        }
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub(crate) async fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        match timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => None,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!("----- stderr of {} -----\n{}", self.name, self.stderr());
        }
    }
}

/// Settings a test may change.
#[derive(Clone, Debug)]
pub(crate) struct SystemOptions {
    pub(crate) activation_ttl_seconds: u64,
    /// Fault injection: the SMS centre delivers every mobile-originated SMS twice.
    pub(crate) duplicate_mo_deliveries: bool,
    /// The platform refuses terminals that are not on an imported manifest.
    pub(crate) require_manifest: bool,
    /// Where the platform keeps its database, when not in the system's directory.
    pub(crate) platform_database: Option<PathBuf>,
    /// The certificate the platform serves.
    pub(crate) platform_certificate: PlatformCertificate,
    /// `RUST_LOG` for every process of the system and its agents, instead of `numbind()`'s.
    pub(crate) log_filter: Option<&'static str>,
    /// The platform and the OSS link to the SMS centre over CMPP 3.0 instead of SMPP over TLS.
    pub(crate) over_cmpp: bool,
    /// The SMS centre's CMPP listener, chosen when the system starts (under `over_cmpp`).
    pub(crate) cmpp_address: Option<String>,
}

/// Which certificate the platform serves: its genuine one, or one that its clients must refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlatformCertificate {
    Genuine,
    /// From the system's authority, but it expired a month ago.
    Expired,
    /// Current and for the right names, but from an authority nobody pinned.
    FromAnotherAuthority,
}

impl Default for SystemOptions {
    fn default() -> Self {
        SystemOptions {
            activation_ttl_seconds: 600,
            duplicate_mo_deliveries: false,
            require_manifest: false,
            platform_database: None,
            platform_certificate: PlatformCertificate::Genuine,
            log_filter: None,
            over_cmpp: false,
            cmpp_address: None,
        }
    }
}

/// The three operator-side components, in start order (the index into `System::processes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Component {
    SmsCentre = 0,
    Platform = 1,
    Oss = 2,
}

/// The SMS centre, the platform and the OSS as three real processes.
pub(crate) struct System {
    /// Indexed by `Component`; declared first so that the children die (and print their logs on a failure)
    /// before the directory holding those logs is removed.
    pub(crate) processes: Vec<Process>,
    pub(crate) directory: TempDir,
    pub(crate) platform_url: String,
    pub(crate) smsc_url: String,
    pub(crate) oss_url: String,
    /// The SMS centre's plain SMPP listener (third-party ESMEs, attack tests).
    pub(crate) smpp_address: String,
    /// The SMS centre's SMPP-over-TLS listener, which the platform and the OSS bind to.
    pub(crate) smpp_tls_address: String,
    pub(crate) platform_key_file: PathBuf,
    /// The local authority every service certificate chains to; boxes and clients trust it.
    pub(crate) ca_file: PathBuf,
    /// A client that trusts `ca_file` (and nothing else) for https, and speaks http to the phones' API.
    pub(crate) http: reqwest::Client,
    options: SystemOptions,
}

/// Where an assembled system's components listen.
pub(crate) struct AssembledAddresses {
    pub(crate) platform_url: String,
    pub(crate) smsc_url: String,
    pub(crate) oss_url: String,
    pub(crate) smpp_address: String,
    pub(crate) smpp_tls_address: String,
}

pub(crate) const OSS_PLATFORM_SECRET: &str = "e2e-oss-platform-secret-0123456789abcdef";
pub(crate) const SMSC_OSS_PASSWORD: &str = "oss-pass";
pub(crate) const SMSC_PLATFORM_PASSWORD: &str = "plat-pas";
pub(crate) const OSS_ADMIN_TOKEN: &str = "e2e-oss-admin-token-0123456789abcdef";

impl System {
    pub(crate) async fn start() -> System {
        Self::start_with(SystemOptions::default()).await
    }

    pub(crate) async fn start_with(mut options: SystemOptions) -> System {
        if options.over_cmpp {
            options.cmpp_address = Some(crate::launch::free_loopback_address());
        }
        let directory = tempfile::tempdir().expect("temp dir");
        let root = directory.path().to_owned();
        write_secret(&root.join("oss-platform.secret"), OSS_PLATFORM_SECRET);
        write_secret(&root.join("smsc-oss.password"), SMSC_OSS_PASSWORD);
        write_secret(&root.join("smsc-platform.password"), SMSC_PLATFORM_PASSWORD);
        write_secret(&root.join("oss-admin.token"), OSS_ADMIN_TOKEN);
        std::fs::write(root.join("smsc.toml"), smsc_config_text(&root, options.over_cmpp)).expect("write smsc config");
        let ca_file = make_local_authority(&root);
        replace_platform_certificate(&root, options.platform_certificate);

        let addresses = ["127.0.0.1:0"; 3];
        let mut smsc = Process::spawn("sms-sim", smsc_command(&root, addresses, &options), &root);
        let smsc_addresses = smsc.wait_listening(&["http", "smpp", "smpp-tls"]).await;
        let smsc_url = format!("http://{}", smsc_addresses[0]);
        let (platform, platform_url, oss, oss_url) =
            start_platform_and_oss(&root, (&smsc_addresses[2], &smsc_url), &options).await;

        System {
            platform_key_file: root.join("platform-signing.key.pub"),
            http: client_trusting(&ca_file),
            ca_file,
            directory,
            platform_url,
            smsc_url,
            oss_url,
            smpp_address: smsc_addresses[1].clone(),
            smpp_tls_address: smsc_addresses[2].clone(),
            processes: vec![smsc, platform, oss],
            options,
        }
    }

    /// A system started another way (the national hub's, `hub.rs`): its processes, SMS centre first, then the
    /// platform, then the OSS the other helpers' `oss_url` names.
    pub(crate) fn assemble(processes: Vec<Process>, directory: TempDir, addresses: AssembledAddresses) -> System {
        let root = directory.path().to_owned();
        let ca_file = root.join("tls").join("ca.pem");
        System {
            platform_key_file: root.join("platform-signing.key.pub"),
            http: client_trusting(&ca_file),
            ca_file,
            directory,
            platform_url: addresses.platform_url,
            smsc_url: addresses.smsc_url,
            oss_url: addresses.oss_url,
            smpp_address: addresses.smpp_address,
            smpp_tls_address: addresses.smpp_tls_address,
            processes,
            options: SystemOptions::default(),
        }
    }

    /// `kill -9` of one component; it stays down until `restart`.
    pub(crate) async fn kill(&mut self, component: Component) {
        let process = &mut self.processes[component as usize];
        process.child.start_kill().expect("SIGKILL");
        let _ = process.child.wait().await;
    }

    /// Starts a killed component again on the same addresses and database.
    pub(crate) async fn restart(&mut self, component: Component) {
        let root = self.directory.path().to_owned();
        let address_of = |url: &str| url.trim_start_matches("https://").trim_start_matches("http://").to_owned();
        let (name, command, listeners): (&str, Command, &[&str]) = match component {
            Component::SmsCentre => (
                "sms-sim",
                smsc_command(
                    &root,
                    [address_of(&self.smsc_url).as_str(), &self.smpp_address, &self.smpp_tls_address],
                    &self.options,
                ),
                &["http", "smpp", "smpp-tls"],
            ),
            Component::Platform => (
                "platform",
                platform_command(
                    &root,
                    &address_of(&self.platform_url),
                    (&self.smpp_tls_address, &self.smsc_url),
                    &self.oss_url,
                    &self.options,
                ),
                &["http"],
            ),
            Component::Oss => (
                "oss-sim",
                with_log_filter(
                    oss_command(
                        &root,
                        &address_of(&self.oss_url),
                        &self.platform_url,
                        &self.smpp_tls_address,
                        &self.options,
                    ),
                    &self.options,
                ),
                &["http"],
            ),
        };
        let restarts = self.processes.len();
        let mut process = Process::spawn(&format!("{name}-restart-{restarts}"), command, &root);
        process.wait_listening(listeners).await;
        // Keep the killed one's log (it is printed if the test fails) and put the new one in its place.
        let killed = std::mem::replace(&mut self.processes[component as usize], process);
        self.processes.push(killed);
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// `numbind merchant create --name <name>` on this system's platform database, its credentials written to
    /// `merchant.json` in the test directory: that file's path and the command's output.
    pub(crate) async fn create_merchant(&self, name: &str, display_name: &str) -> (PathBuf, std::process::Output) {
        let path = self.path("merchant.json");
        let output = numbind()
            .args(["merchant", "create", "--name", name, "--display-name", display_name, "--data-dir"])
            .arg(self.directory.path())
            .arg("--credentials-file")
            .arg(&path)
            .args(["--platform-url", &self.platform_url])
            .arg("--ca-file")
            .arg(&self.ca_file)
            .output()
            .await
            .expect("numbind merchant create");
        (path, output)
    }

    /// A phone sends an SMS to the short code through the SMS centre's phone API.
    pub(crate) async fn phone_sends(&self, from: &str, text: &str) -> String {
        let response = self
            .http
            .post(format!("{}/v1/phones/{from}/messages", self.smsc_url))
            .json(&serde_json::json!({ "to": SHORT_CODE, "text": text }))
            .send()
            .await
            .expect("phone send");
        assert_eq!(response.status().as_u16(), 202, "phone send answered {}", response.status());
        let body: Value = response.json().await.expect("json");
        body["message_id"].as_str().expect("message_id").to_owned()
    }

    pub(crate) async fn inbox(&self, msisdn: &str) -> Vec<String> {
        let response =
            self.http.get(format!("{}/v1/phones/{msisdn}/inbox", self.smsc_url)).send().await.expect("inbox");
        let body: Value = response.json().await.expect("json");
        body["messages"]
            .as_array()
            .map(|messages| messages.iter().filter_map(|message| message["text"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Waits until the phone's inbox holds a message containing `needle`; returns all its messages.
    pub(crate) async fn wait_for_sms(&self, msisdn: &str, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + FLOW_TIMEOUT;
        loop {
            let messages = self.inbox(msisdn).await;
            if messages.iter().any(|text| text.contains(needle)) {
                return messages;
            }
            assert!(Instant::now() < deadline, "no SMS containing {needle:?} reached {msisdn}; inbox: {messages:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An agent process (`numbind agent ... <arguments>`) with its own state directory.
    pub(crate) fn agent(&self, state_name: &str, arguments: &[&str]) -> Process {
        let mut command = numbind();
        command
            .arg("agent")
            .arg("--state-dir")
            .arg(self.path(state_name))
            .arg("--platform-url")
            .arg(&self.platform_url)
            .arg("--platform-key-file")
            .arg(&self.platform_key_file)
            .arg("--platform-ca-file")
            .arg(&self.ca_file)
            .arg("--device-model")
            .arg("Skyworth E900")
            .arg("--json-events")
            .args(arguments);
        Process::spawn(
            &format!("agent-{state_name}-{}", arguments.first().unwrap_or(&"")),
            with_log_filter(command, &self.options),
            self.directory.path(),
        )
    }
}

impl System {
    /// Boots a box with its own state directory, has `msisdn` text its code, and returns the `bound` event.
    pub(crate) async fn bind_a_box(&self, state: &str, msisdn: &str) -> Value {
        let mut agent = self.agent(state, &["run"]);
        let activation = next_event(&mut agent, &["activation"]).await;
        self.phone_sends(msisdn, activation["sms_text"].as_str().expect("sms_text")).await;
        next_event(&mut agent, &["bound"]).await
    }

    /// A fresh admin operator token, made the way an operator makes one.
    pub(crate) async fn admin_token(&self) -> String {
        self.operator_token("admin").await
    }

    /// A fresh operator token with `role` (`auditor` or `admin`).
    pub(crate) async fn operator_token(&self, role: &str) -> String {
        let output = numbind()
            .args(["operator", "token", "create", "--name", role, "--role", role, "--data-dir"])
            .arg(self.directory.path())
            .output()
            .await
            .expect("numbind operator token create");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8 token").trim().to_owned()
    }

    /// `numbind reconcile --json` with an admin token: whether it found no difference, and its summary.
    pub(crate) async fn reconcile(&self, token: &str) -> (bool, Value) {
        let output = numbind()
            .args(["reconcile", "--json", "--platform-url", &self.platform_url, "--oss-url", &self.oss_url])
            .arg("--ca-file")
            .arg(&self.ca_file)
            .env("NUMBIND_OPERATOR_TOKEN", token)
            .env("NUMBIND_OSS_ADMIN_TOKEN", OSS_ADMIN_TOKEN)
            .output()
            .await
            .expect("numbind reconcile");
        let summary = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("reconcile printed no JSON: {}", String::from_utf8_lossy(&output.stderr)));
        (output.status.success(), summary)
    }

    /// The OSS's binding records of a terminal.
    pub(crate) async fn oss_bindings_of(&self, terminal_id: &str) -> Vec<Value> {
        let url = format!("{}/v1/bindings?terminal_id={terminal_id}", self.oss_url);
        let body: Value =
            self.oss_admin(self.http.get(url)).send().await.expect("oss bindings").json().await.expect("json");
        body["bindings"].as_array().cloned().unwrap_or_default()
    }

    /// A request to the OSS admin API, with its admin token.
    pub(crate) fn oss_admin(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(OSS_ADMIN_TOKEN)
    }
}

/// Reads JSON events from an agent until one whose `event` is in `wanted`; fails on timeout.
pub(crate) async fn next_event(agent: &mut Process, wanted: &[&str]) -> Value {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let line = agent
            .next_line_before(deadline)
            .await
            .unwrap_or_else(|| panic!("agent gave no {wanted:?} event in time\n{}", agent.stderr()));
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        if wanted.iter().any(|name| event["event"] == *name) {
            return event;
        }
    }
}
