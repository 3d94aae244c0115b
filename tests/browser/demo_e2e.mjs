// End-to-end test of the /demo/ page: two headless Chromium pages pair, connect through the TURN relay, chat, delete.
//
// Expects turnpiked (with [turn] configured) and coturn to be running already; run.sh sets that up in a
// loopback-only network namespace. Environment:
//   BASE_URL       turnpiked's address                       (default http://127.0.0.1:8080); https://
//                  runs the page over TLS (wss://), accepting the server's test certificate
//   CHROMIUM       the browser binary                        (default /usr/bin/chromium)
//   E2E_VIDEO      1: also send the fake camera across       (default 1)
//   E2E_ARTIFACTS  directory for screenshots and page logs on failure (default: none)
// Exit code 0 when every check passed, 1 otherwise.
import assert from 'node:assert/strict';
import {
  BASE_URL, OVER_TLS, WS_SCHEME, launchBrowser, openPage, pageProblems, runMain, sessionsKilled, sleep, step,
  turnEntry, waitIn,
} from './harness.mjs';

const WITH_VIDEO = (process.env.E2E_VIDEO ?? '1') !== '0';
const TOTAL_TIMEOUT_MS = 120_000;
const NO_DELIVERY_WINDOW_MS = 3_000;

function demoState(page) {
  return page.evaluate(() => {
    const d = window.turnpikeDemo;
    return {
      state: d.state,
      roomId: d.roomId,
      isInitiator: d.isInitiator,
      signalingState: d.signalingState,
      iceConnectionState: d.iceConnectionState,
      dataChannelState: d.dataChannelState,
      selectedPairType: d.selectedPairType,
      closedReason: d.closedReason,
      lastError: d.lastError,
      serverMessages: d.serverMessages,
      received: d.received,
      sent: d.sent,
    };
  });
}

function openDemoPage(label) {
  return openPage(label, '/demo/', {
    prepare: async (page) => {
      await waitIn(page, 'window.turnpikeDemo', () => !!window.turnpikeDemo && !!window.turnpikeDemo.deviceId);
      assert.equal(await page.evaluate(() => location.protocol), OVER_TLS ? 'https:' : 'http:', `${label}: page scheme`);
    },
  });
}

async function sendThroughUi(page, text) {
  await page.fill('#chat-input', text);
  await page.click('#chat-send');
  await waitIn(page, `"${text}" in its own sent list`, (t) => window.turnpikeDemo.sent.includes(t), text);
}

// The page's own event log (read via textContent: it sits in a closed <details>, so innerText is empty).
function eventLogOf(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#event-log li'), (li) => li.textContent).join('\n'));
}

async function run() {
  await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

  const a = await openDemoPage('A');
  const b = await openDemoPage('B');
  step('both pages loaded /demo/');
  for (const page of [a, b]) {
    assert.equal(await page.evaluate(() => document.compatMode), 'CSS1Compat', `${page.label}: quirks mode`);
  }
  const [idA, idB] = await Promise.all([a, b].map((p) => p.evaluate(() => window.turnpikeDemo.deviceId)));
  assert.notEqual(idA, idB, 'the two pages must have different device ids');

  // Pairing through the UI.
  await a.click('#start-btn');
  const code = await waitIn(a, 'a 6-digit join code', () => {
    const text = document.getElementById('join-code').textContent.trim();
    return /^[0-9]{6}$/.test(text) ? text : null;
  });
  step(`A shows join code ${code}`);
  await b.fill('#code-input', code);
  await b.click('#join-btn');
  const roomB = await waitIn(b, 'a room id after Join', () => window.turnpikeDemo.roomId);
  const roomA = await waitIn(a, 'a room id from /api/rooms/check', () => window.turnpikeDemo.roomId);
  assert.equal(roomA, roomB, 'both pages must be in the same room');
  assert.match(roomA, /^[0-9a-f]{48}$/, 'room id shape');
  step(`paired in room ${roomA}`);

  // TURN credentials from room_joined, one per device.
  const creds = {};
  for (const page of [a, b]) {
    await waitIn(page, 'room_joined', () => window.turnpikeDemo.serverMessages.includes('room_joined'));
    const info = await waitIn(page, 'iceServers', () => {
      const d = window.turnpikeDemo;
      return d.iceServers ? { iceServers: d.iceServers, expiresAt: d.turnExpiresAt, source: d.iceServersSource } : null;
    });
    assert.equal(info.source, 'room_joined', `${page.label}: iceServers must come with room_joined`);
    const turn = turnEntry(page, info.iceServers);
    assert.ok(/^[0-9a-f]{32}$|^\d+:[0-9a-f]{32}$/.test(turn.username), `${page.label}: TURN username ${turn.username} is not opaque`);
    assert.ok(!turn.username.includes(roomA.slice(0, 8)), `${page.label}: TURN username ${turn.username} names the room`);
    assert.ok(!Number.isNaN(Date.parse(info.expiresAt)), `${page.label}: expiresAt ${info.expiresAt} is not a date`);
    creds[page.label] = turn.username;
  }
  assert.notEqual(creds.A, creds.B, 'each device must get its own TURN user');
  step(`TURN users: A ${creds.A}, B ${creds.B}`);

  // Relay-only data channel.
  await Promise.all([a, b].map((page) => waitIn(page, 'the data channel to open',
                                                () => window.turnpikeDemo.dataChannelState === 'open')));
  step('data channel open on both pages');
  const initiators = await Promise.all([a, b].map((p) => p.evaluate(() => window.turnpikeDemo.isInitiator)));
  assert.equal(initiators.filter(Boolean).length, 1, `exactly one initiator, got ${initiators}`);

  for (const page of [a, b]) {
    const pair = await page.evaluate(() => window.turnpikeDemo.getSelectedPair());
    assert.ok(pair, `${page.label}: getStats() shows no selected candidate pair`);
    assert.ok(pair.localType === 'relay' || pair.remoteType === 'relay',
              `${page.label}: selected pair is ${pair.localType}/${pair.remoteType}, not through the relay`);
    step(`${page.label} selected pair ${pair.localType}/${pair.remoteType} ${pair.protocol} ` +
         `${pair.localAddress} -> ${pair.remoteAddress}`);
  }

  // Chat both ways through the UI.
  await sendThroughUi(a, 'hello from A');
  await waitIn(b, 'the message from A', () => window.turnpikeDemo.received.includes('hello from A'));
  await sendThroughUi(b, 'hello from B');
  await waitIn(a, 'the message from B', () => window.turnpikeDemo.received.includes('hello from B'));
  const chatB = await b.evaluate(() => document.getElementById('chat-log').innerText);
  assert.match(chatB, /hello from A/, 'B shows the message from A in its chat log');
  step('messages delivered both ways');

  if (WITH_VIDEO) {
    await a.click('#camera-btn');
    await waitIn(b, 'video frames from A', () => {
      const v = document.getElementById('remote-video');
      return v.videoWidth > 0 && v.readyState >= 2;
    });
    step('fake camera of A plays on B');
  }

  // Delete the room through the UI: both pages get room_closed, the relay sessions end, nothing goes through.
  const killedBefore = await sessionsKilled();
  await a.click('#delete-btn');
  for (const page of [a, b]) {
    await waitIn(page, 'room_closed from the server', () => window.turnpikeDemo.serverMessages.includes('room_closed'),
                 undefined, 5_000);
    await waitIn(page, 'state closed', () => window.turnpikeDemo.state === 'closed', undefined, 5_000);
    const st = await demoState(page);
    assert.equal(st.closedReason, 'deleted', `${page.label}: room_closed reason`);
    const bannerText = await page.textContent('#banner');
    assert.match(bannerText, /room closed: deleted/, `${page.label}: banner says ${bannerText}`);
  }
  step('both pages got room_closed (deleted)');

  const sentAfter = await b.evaluate(() => window.turnpikeDemo.send('after delete'));
  await sleep(NO_DELIVERY_WINDOW_MS);
  const receivedByA = await a.evaluate(() => window.turnpikeDemo.received);
  assert.ok(!receivedByA.includes('after delete'), 'a message sent after the delete arrived');
  step(`message after delete: send() returned ${sentAfter}, not delivered within ${NO_DELIVERY_WINDOW_MS} ms`);

  // Each page held at least one allocation; the daemon ends them through coturn's CLI when the room goes.
  const deadline = Date.now() + 5_000;
  let killed = await sessionsKilled();
  while (killed - killedBefore < 2 && Date.now() < deadline) {
    await sleep(200);
    killed = await sessionsKilled();
  }
  assert.ok(killed - killedBefore >= 2,
            `relay sessions ended after the delete: ${killed - killedBefore}, expected at least 2`);
  step(`the daemon ended ${killed - killedBefore} relay sessions in coturn`);

  const lookup = await fetch(`${BASE_URL}/api/rooms?roomid=${roomA}`);
  assert.equal(lookup.status, 404, 'the deleted room must be gone from the API');

  const problems = [];
  for (const page of [a, b]) {
    problems.push(...pageProblems(page));
    if (!page.socketUrls.length || page.socketUrls.some((url) => new URL(url).protocol !== WS_SCHEME)) {
      problems.push(`${page.label}: expected ${WS_SCHEME} WebSockets, saw ${page.socketUrls.join(', ') || 'none'}`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
}

await runMain(run, {
  timeoutMs: TOTAL_TIMEOUT_MS,
  passLine: 'PASS',
  stateOf: demoState,
  eventLogOf,
  screenshotOptions: { fullPage: true },
});
