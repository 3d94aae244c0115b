// What the browser end-to-end tests share: the Chromium launch, per-page instrumentation, the step() logger,
// waiting helpers, /metrics reads, the page-hygiene checks, and the main wrapper (overall timeout, page dumps and
// artifacts on failure, browser shutdown, exit code). Each *_e2e.mjs file keeps only its own flow.
//
// Environment read here:
//   BASE_URL       turnpiked's address                       (default http://127.0.0.1:8080); https:// runs the
//                  pages over TLS (wss://), accepting the server's test certificate
//   CHROMIUM       the browser binary                        (default /usr/bin/chromium)
//   E2E_ARTIFACTS  directory for screenshots and page logs on failure (default: none)
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const OVER_TLS = BASE_URL.startsWith('https:');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.E2E_ARTIFACTS || '';
export const STEP_TIMEOUT_MS = 20_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  // Without this Chromium gathers no candidates at all in a namespace that only has lo.
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
];

const started = Date.now();
let browser = null;
const pages = {};  // label -> page, for the dumps and artifacts on failure

export function step(text) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${seconds}s] ${text}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits until fn() (run in the page) returns a truthy value; fails with `what` after the timeout.
export async function waitIn(page, what, fn, arg, timeout = STEP_TIMEOUT_MS) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (e) {
    throw new Error(`${page.label}: timed out after ${timeout} ms waiting for ${what}`);
  }
}

// turnpike_turn_sessions_killed_total from /metrics (admin endpoint, open to loopback).
export async function sessionsKilled() {
  const response = await fetch(`${BASE_URL}/metrics`);
  assert.equal(response.status, 200, `GET /metrics answered ${response.status}`);
  const match = (await response.text()).match(/^turnpike_turn_sessions_killed_total (\d+)$/m);
  assert.ok(match, '/metrics has no turnpike_turn_sessions_killed_total');
  return Number(match[1]);
}

// The turn:/turns: entry of an iceServers list, which must carry a username and a credential.
export function turnEntry(page, iceServers) {
  const turn = (iceServers || []).find((s) => [].concat(s.urls).some((u) => /^turns?:/.test(u)));
  assert.ok(turn, `${page.label}: no turn: entry in ${JSON.stringify(iceServers)}`);
  assert.ok(turn.username && turn.credential, `${page.label}: TURN entry without username/credential`);
  return turn;
}

// Launches headless Chromium with the shared flags plus extraArgs; runMain() closes it.
export async function launchBrowser(extraArgs = []) {
  step(`launching ${CHROMIUM}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs],
                                    timeout: 30_000 });
  return browser;
}

// Opens a page in its own context that records its console, uncaught errors, requests leaving the server and
// WebSocket URLs, loads BASE_URL + path (which must answer 200), runs prepare(page), and only then keeps the page
// for the dumps and artifacts on failure.
export async function openPage(label, path, { contextOptions = {}, prepare = async () => {} } = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: OVER_TLS, ...contextOptions });
  const page = await context.newPage();
  page.label = label;
  page.consoleLines = [];
  page.pageErrors = [];
  page.foreignRequests = [];
  page.socketUrls = [];
  page.on('websocket', (socket) => page.socketUrls.push(socket.url()));
  page.on('console', (msg) => page.consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => page.pageErrors.push(String(err)));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== new URL(BASE_URL).origin) {
      page.foreignRequests.push(request.url());
    }
  });
  const response = await page.goto(`${BASE_URL}${path}`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  assert.equal(response.status(), 200, `${label}: GET ${path} answered ${response.status()}`);
  await prepare(page);
  pages[label] = page;
  return page;
}

// The WebSocket scheme the pages must use.
export const WS_SCHEME = OVER_TLS ? 'wss:' : 'ws:';

// The hygiene problems every page is checked for: uncaught errors and requests that left the server.
export function pageProblems(page) {
  const problems = [];
  if (page.pageErrors.length) problems.push(`${page.label}: uncaught errors: ${page.pageErrors.join(' | ')}`);
  if (page.foreignRequests.length) problems.push(`${page.label}: requests off the server: ${page.foreignRequests}`);
  return problems;
}

// Prints each kept page's state and event log to stderr.
async function dumpPages(stateOf, eventLogOf) {
  for (const [label, page] of Object.entries(pages)) {
    try {
      console.error(`--- ${label} state: ${JSON.stringify(await stateOf(page))}`);
      const eventLog = await eventLogOf(page);
      console.error(`--- ${label} event log:\n${eventLog}`);
    } catch (e) {
      console.error(`--- ${label}: page not readable (${e.message})`);
    }
  }
}

// Saves a screenshot, the event log and the console of each kept page under E2E_ARTIFACTS.
async function saveArtifacts(eventLogOf, prefix, screenshotOptions) {
  if (!ARTIFACTS) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const [label, page] of Object.entries(pages)) {
    try {
      await page.screenshot({ path: join(ARTIFACTS, `${prefix}${label}.png`), ...screenshotOptions });
      const eventLog = await eventLogOf(page);
      writeFileSync(join(ARTIFACTS, `${prefix}${label}-events.txt`), eventLog);
      writeFileSync(join(ARTIFACTS, `${prefix}${label}-console.txt`), page.consoleLines.join('\n'));
    } catch (e) {
      // The page may be gone; keep whatever was saved.
    }
  }
  console.error(`artifacts in ${ARTIFACTS}`);
}

// Runs the test: run() within timeoutMs, then the PASS line; on failure the FAIL line, the page dumps (stateOf,
// eventLogOf) and the artifacts (file names start with artifactPrefix). Closes the browser and exits 0 or 1.
export async function runMain(run, { timeoutMs, passLine, stateOf, eventLogOf, artifactPrefix = '',
                                     screenshotOptions = {} }) {
  let exitCode = 0;
  const overall = setTimeout(() => {
    console.error(`FAIL: the test did not finish within ${timeoutMs / 1000} s`);
    process.exit(1);
  }, timeoutMs);
  try {
    await run();
    step(passLine);
  } catch (e) {
    exitCode = 1;
    console.error(`FAIL: ${e.message}`);
    await dumpPages(stateOf, eventLogOf);
    await saveArtifacts(eventLogOf, artifactPrefix, screenshotOptions);
  } finally {
    if (browser) await browser.close().catch(() => {});
    clearTimeout(overall);
  }
  process.exit(exitCode);
}
