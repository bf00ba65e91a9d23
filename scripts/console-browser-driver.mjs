// numbind console browser test driver: drives Debian's headless Chromium through chromedriver over the W3C
// WebDriver protocol (plain HTTP + JSON, Node's built-in fetch: no npm package, no browser download).
//
// Steps: sign in with an admin token, search the bound number, open its binding's terminal page, unbind it with a
// reason, see the `operator_unbound` audit event, save a screenshot. Exits non-zero naming the failed step.
//
// Environment: CONSOLE_URL (http://127.0.0.1:PORT), CONSOLE_TOKEN (admin token: from the environment, never argv),
// BOUND_NUMBER, TERMINAL_ID, SCREENSHOT (PNG path), CONSOLE_CERTIFICATE (the platform's PEM certificate, whose
// key the browser trusts), optional CHROMIUM (/usr/bin/chromium), CHROMEDRIVER
// (/usr/bin/chromedriver), BROWSER_PROFILE_DIR (a new empty directory).

import { spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const STEP_TIMEOUT_MS = 15_000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

const consoleUrl = required("CONSOLE_URL").replace(/\/$/, "");
const token = required("CONSOLE_TOKEN");
const boundNumber = required("BOUND_NUMBER");
const terminalId = required("TERMINAL_ID");
const screenshotPath = required("SCREENSHOT");
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

// The console is served over HTTPS with a certificate from numbind's local authority, which the browser's own
// store does not hold: trust exactly that certificate's public key (CONSOLE_CERTIFICATE, a PEM file), nothing
// more, as an operator who pinned it would.
function pinnedCertificateArguments() {
  const path = process.env.CONSOLE_CERTIFICATE;
  if (!path) return [];
  const certificate = new X509Certificate(readFileSync(path));
  const spki = certificate.publicKey.export({ type: "spki", format: "der" });
  const hash = createHash("sha256").update(spki).digest("base64");
  return [`--ignore-certificate-errors-spki-list=${hash}`];
}
const chromedriverPath = process.env.CHROMEDRIVER || "/usr/bin/chromedriver";
const ownProfile = !process.env.BROWSER_PROFILE_DIR;
const profileDir = process.env.BROWSER_PROFILE_DIR || mkdtempSync(join(tmpdir(), "numbind-chromium-"));
const maskedNumber = `${boundNumber.slice(0, 3)}****${boundNumber.slice(7)}`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Polls `probe` until it returns a truthy value or the deadline passes.
async function waitFor(what, probe, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ""}`);
}

class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async call(method, path, body) {
    const url = this.session ? `${this.base}/session/${this.session}${path}` : `${this.base}${path}`;
    const response = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(`webdriver ${method} ${path}: ${answer.value?.error}: ${answer.value?.message?.split("\n")[0]}`);
    }
    return answer.value;
  }

  async start() {
    const capabilities = {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: chromium,
        args: [
          "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", `--user-data-dir=${profileDir}`, "--window-size=1280,1100",
          // The console picks its language from Accept-Language: the steps below read English until they switch.
          "--lang=en-US", "--accept-lang=en-US,en",
          ...pinnedCertificateArguments(),
        ],
      },
    };
    const created = await this.call("POST", "/session", { capabilities: { alwaysMatch: capabilities } });
    this.session = created.sessionId;
  }

  async stop() {
    if (this.session) {
      await this.call("DELETE", "").catch(() => {});
      this.session = null;
    }
  }

  go(url) { return this.call("POST", "/url", { url }); }
  currentUrl() { return this.call("GET", "/url"); }
  pageSource() { return this.call("GET", "/source"); }
  title() { return this.call("GET", "/title"); }

  async find(css) {
    const found = await waitFor(`element ${css}`, async () => {
      const elements = await this.call("POST", "/elements", { using: "css selector", value: css });
      return elements.length > 0 ? elements[0][ELEMENT] : null;
    });
    return found;
  }

  async type(css, text) {
    const element = await this.find(css);
    await this.call("POST", `/element/${element}/clear`, {});
    await this.call("POST", `/element/${element}/value`, { text });
  }

  async click(css) {
    const element = await this.find(css);
    await this.call("POST", `/element/${element}/click`, {});
  }

  async text(css) {
    const element = await this.find(css);
    return this.call("GET", `/element/${element}/text`);
  }

  async screenshot(path) {
    const png = await this.call("GET", "/screenshot");
    writeFileSync(path, Buffer.from(png, "base64"));
  }
}

async function step(name, work) {
  const started = Date.now();
  try {
    const result = await work();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
    return result;
  } catch (error) {
    console.error(`FAIL ${name}: ${error.message}`);
    throw error;
  }
}

async function main() {
  const port = await freePort();
  const chromedriver = spawn(chromedriverPath, [`--port=${port}`, "--allowed-ips=127.0.0.1"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const driver = new WebDriver(`http://127.0.0.1:${port}`);
  let failed = false;
  try {
    await step("chromedriver answers", () =>
      waitFor("chromedriver /status", async () => (await driver.call("GET", "/status")).ready));
    await step("chromium starts", () => driver.start());
    try {
      await step("signing in with the admin token", async () => {
        await driver.go(`${consoleUrl}/console/sign-in`);
        await driver.type("#token", token);
        await driver.click("#sign-in");
        await waitFor("the overview page", async () => (await driver.title()).startsWith("Overview"));
        const source = await driver.pageSource();
        if (!source.includes('id="activity-chart"')) throw new Error("the overview has no activity chart");
        await driver.screenshot(screenshotPath.replace(/\.png$/, "") + "-overview.png");
      });
      await step("searching the bound number", async () => {
        await driver.click("#search-link");
        await driver.type("#search-msisdn", boundNumber);
        await driver.click("#search");
        // The unfiltered list may already show the number: wait for the page of this search, not just the text.
        await waitFor("the search's result row", async () =>
          (await driver.currentUrl()).includes(`msisdn=${boundNumber}`) &&
          (await driver.pageSource()).includes(maskedNumber));
        const source = await driver.pageSource();
        if (!source.includes(terminalId)) throw new Error(`the results do not list terminal ${terminalId}`);
      });
      await step("opening its binding", async () => {
        await driver.click("a.terminal-link");
        await waitFor("the terminal page", async () => (await driver.currentUrl()).includes(`/console/terminals/${terminalId}`));
        const status = await driver.text("#binding-status");
        if (status !== "bound") throw new Error(`the terminal shows "${status}", not bound`);
      });
      await step("unbinding it with a reason", async () => {
        await driver.type("#unbind-reason", "browser test: subscriber asked to unbind");
        await driver.click("#unbind");
        await driver.find("#unbound-notice");
        const status = await driver.text("#binding-status");
        if (status !== "not bound") throw new Error(`after unbinding the terminal shows "${status}"`);
      });
      await step("seeing the operator_unbound audit event", async () => {
        const kinds = await driver.call("POST", "/elements", { using: "css selector", value: "code.audit-kind" });
        const texts = await Promise.all(kinds.map((kind) => driver.call("GET", `/element/${kind[ELEMENT]}/text`)));
        if (!texts.includes("operator_unbound")) throw new Error(`audit events shown: ${texts.join(", ")}`);
        const source = await driver.pageSource();
        if (!source.includes("browser test: subscriber asked to unbind")) throw new Error("the reason is not shown");
        if (source.includes(boundNumber)) throw new Error("the page shows the full number");
      });
      await step(`saving a screenshot to ${screenshotPath}`, () => driver.screenshot(screenshotPath));
      await step("switching the console to Chinese", async () => {
        await driver.click("#language-switch");
        await waitFor("the terminal page in Chinese", async () =>
          (await driver.pageSource()).includes('<html lang="zh-CN">'));
        if (!(await driver.currentUrl()).includes(`/console/terminals/${terminalId}`)) {
          throw new Error("the switch did not come back to the terminal page");
        }
        const status = await driver.text("#binding-status");
        if (status !== "未绑定") throw new Error(`in Chinese the terminal shows "${status}", not 未绑定`);
        await driver.screenshot(screenshotPath.replace(/\.png$/, "") + "-zh.png");
      });
      await step("the choice of Chinese holds on the next page", async () => {
        await driver.go(`${consoleUrl}/console`);
        await waitFor("the overview in Chinese", async () => (await driver.title()).startsWith("概览"));
      });
    } catch (error) {
      failed = true;
      const failurePath = screenshotPath.replace(/\.png$/, "") + "-failure.png";
      await driver.screenshot(failurePath).then(() => console.error(`failure screenshot: ${failurePath}`), () => {});
    }
  } catch (error) {
    failed = true;
  } finally {
    await driver.stop();
    chromedriver.kill("SIGTERM");
    if (ownProfile) rmSync(profileDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
});
