// End-to-end test of the seed-002 Socket.IO session flow: two headless Chromium pages run the client flow of the
// seed's WebRTCConnection.ts on the socket.io-client browser bundle, open a relay-only data channel through coturn
// with the per-session TURN credentials, then leave; after sessions.turn_grace_seconds the daemon revokes the
// credentials and coturn's relays of them are ended, so the channel stops delivering.
//
// Page A: namespace /sessions, default transports (polling, then the upgrade to websocket), ICE servers from
// POST /turn/credentials. Page B: namespace /, transports ['websocket'] (as the seed's client), ICE servers from the
// `ice_servers` event. The page that gets `peer:joined` is the initiator and sends the offer.
//
// Expects turnpiked (with [turn] configured and a short sessions.turn_grace_seconds) and coturn to be running
// already; run.sh sets that up in a loopback-only network namespace. Environment:
//   BASE_URL       turnpiked's address                       (default http://127.0.0.1:8080); https:// runs the
//                  pages over TLS (wss://), accepting the server's test certificate
//   CHROMIUM       the browser binary                        (default /usr/bin/chromium)
//   DAEMON_LOG     turnpiked's log file (required: the test looks for session_credentials_revoked there)
//   GRACE_SECONDS  sessions.turn_grace_seconds of the daemon (default 1)
//   SIO_BUNDLE     socket.io-client browser bundle           (default ../socketio/node_modules/socket.io-client/
//                  dist/socket.io.min.js)
//   E2E_ARTIFACTS  directory for screenshots and page logs on failure (default: none)
// Exit code 0 when every check passed, 1 otherwise.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BASE_URL, OVER_TLS, WS_SCHEME, launchBrowser, openPage, pageProblems, runMain, sessionsKilled, sleep, step,
  turnEntry, waitIn,
} from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DAEMON_LOG = process.env.DAEMON_LOG || '';
const GRACE_SECONDS = Number(process.env.GRACE_SECONDS || '1');
const SIO_BUNDLE = process.env.SIO_BUNDLE ||
                   join(here, '..', 'socketio', 'node_modules', 'socket.io-client', 'dist', 'socket.io.min.js');
const TOTAL_TIMEOUT_MS = 90_000;
const PROBE_INTERVAL_MS = 250;
const STOP_BOUND_MS = 15_000;      // from the disconnect until the channel must have stopped delivering
const NO_DELIVERY_WINDOW_MS = 3_000;  // probes sent this long after the relays were ended must not arrive
const KILL_MARGIN_MS = 500;        // probes sent this soon after the kill was observed are not judged

// Polls fn() in Node until it returns a truthy value; fails with `what` after the timeout.
async function waitHere(what, fn, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(100);
  }
}

function revocationsLogged() {
  return (readFileSync(DAEMON_LOG, 'utf8').match(/session_credentials_revoked/g) || []).length;
}

// The seed-002 client flow, run in the page (WebRTCConnection.ts: io() with auth, peer:joined makes the
// initiator, one `signal` event for offer/answer/candidate), with the ICE servers from the documented sources.
// State goes to window.e2e; window.e2eSend / e2eSelectedPair / e2eDisconnect are the test's handles.
function startClient(cfg) {
  const st = {
    log: [], events: [], signals: [], received: [], sent: [], errors: [], candidateErrors: [],
    connects: 0, socketId: null, firstTransport: null, transport: null, upgraded: false, disconnectReason: null,
    iceSource: null, iceServers: null, iceServersEvent: null, restStatus: null, isInitiator: false, peer: null, localCandidates: 0,
    iceConnectionState: null, connectionState: null, dataChannelState: null,
  };
  window.e2e = st;
  const note = (text) => st.log.push(`${(performance.now() / 1000).toFixed(2)} ${text}`);
  let pc = null;
  let dc = null;
  let resolvePc;
  const pcReady = new Promise((resolve) => { resolvePc = resolve; });
  let chain = Promise.resolve();
  const inOrder = (what, fn) => {
    chain = chain.then(fn).catch((e) => { st.errors.push(`${what}: ${e}`); note(`${what} failed: ${e}`); });
  };

  const options = { auth: { userId: cfg.userId, sessionId: cfg.sessionId }, reconnection: true,
                    reconnectionAttempts: 10, timeout: 5000 };
  if (cfg.transports) options.transports = cfg.transports;
  const socket = io(cfg.url, options);

  const attachChannel = (channel) => {
    dc = channel;
    st.dataChannelState = channel.readyState;
    channel.onopen = () => { st.dataChannelState = channel.readyState; note('data channel open'); };
    channel.onclose = () => { st.dataChannelState = channel.readyState; note('data channel closed'); };
    channel.onerror = (e) => note(`data channel error ${e.error && e.error.message}`);
    channel.onmessage = (e) => st.received.push(String(e.data));
  };

  const makePeerConnection = (iceServers, source) => {
    if (pc) return;
    st.iceServers = iceServers;
    st.iceSource = source;
    pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      st.localCandidates += 1;
      socket.emit('signal', { type: 'candidate', candidate: e.candidate.toJSON() });
    };
    pc.onicecandidateerror = (e) => st.candidateErrors.push(`${e.errorCode} ${e.errorText} ${e.url}`);
    pc.oniceconnectionstatechange = () => {
      st.iceConnectionState = pc.iceConnectionState;
      note(`ice ${pc.iceConnectionState}`);
    };
    pc.onconnectionstatechange = () => {
      st.connectionState = pc.connectionState;
      note(`connection ${pc.connectionState}`);
    };
    pc.ondatachannel = (e) => attachChannel(e.channel);
    note(`peer connection from ${source}`);
    resolvePc();
  };

  // The documented ICE-server change: REST with {userId, sessionId}, or the ice_servers event.
  const iceServersFromRest = async () => {
    const response = await fetch('/turn/credentials', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: cfg.userId, sessionId: cfg.sessionId }),
    });
    st.restStatus = response.status;
    const body = await response.json();
    makePeerConnection(body.iceServers, 'rest');
  };

  socket.io.on('open', () => {
    const engine = socket.io.engine;
    st.firstTransport = engine.transport.name;
    st.transport = engine.transport.name;
    engine.on('upgrade', (transport) => {
      st.upgraded = true;
      st.transport = transport.name;
      note(`upgraded to ${transport.name}`);
    });
  });
  socket.onAny((event) => st.events.push(event));
  socket.on('connect', () => {
    st.connects += 1;
    st.socketId = socket.id;
    note(`connect ${socket.id} over ${socket.io.engine.transport.name}`);
    if (cfg.iceFrom === 'rest' && st.connects === 1) inOrder('POST /turn/credentials', iceServersFromRest);
  });
  socket.on('connect_error', (e) => { st.errors.push(`connect_error: ${e.message}`); note(`connect_error ${e.message}`); });
  socket.on('disconnect', (reason) => { st.disconnectReason = reason; note(`disconnect ${reason}`); });
  socket.on('ice_servers', (payload) => {
    st.iceServersEvent = payload;
    if (cfg.iceFrom === 'event') makePeerConnection(payload.iceServers, 'ice_servers');
  });
  socket.on('peer:joined', ({ userId }) => {
    note(`peer:joined ${userId}`);
    if (st.isInitiator) return;
    st.isInitiator = true;
    st.peer = userId;
    inOrder('offer', async () => {
      await pcReady;
      attachChannel(pc.createDataChannel('chat'));
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      socket.emit('signal', { type: 'offer', sdp: offer.sdp });
    });
  });
  socket.on('peer:left', ({ userId }) => note(`peer:left ${userId}`));
  socket.on('signal', (message) => {
    st.signals.push({ type: message.type, from: message.from });
    if (!st.peer) st.peer = message.from;
    inOrder(`signal ${message.type}`, async () => {
      await pcReady;
      if (message.type === 'offer') {
        await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        socket.emit('signal', { type: 'answer', sdp: answer.sdp });
      } else if (message.type === 'answer') {
        await pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
      } else if (message.type === 'candidate') {
        await pc.addIceCandidate(message.candidate);
      }
    });
  });

  window.e2eSend = (text) => {
    if (!dc || dc.readyState !== 'open') return false;
    dc.send(text);
    st.sent.push(text);
    return true;
  };
  window.e2eDisconnect = () => socket.disconnect();
  window.e2eSelectedPair = async () => {
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    const pair = pairId && stats.get(pairId);
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return {
      state: pair.state,
      localType: local && local.candidateType,
      remoteType: remote && remote.candidateType,
      relayProtocol: local && local.relayProtocol,
      localAddress: local && `${local.address}:${local.port}`,
      remoteAddress: remote && `${remote.address}:${remote.port}`,
    };
  };
}

// Any page of the daemon gives the pages its origin (fetch('/turn/credentials') is same-origin).
function openSessionPage(label) {
  return openPage(label, '/health', {
    contextOptions: { bypassCSP: true },
    prepare: async (page) => {
      await page.addScriptTag({ path: SIO_BUNDLE });
      assert.equal(await page.evaluate(() => typeof io), 'function', `${label}: the socket.io-client bundle did not load`);
    },
  });
}

function stateOf(page) {
  return page.evaluate(() => {
    const { log, received, sent, ...rest } = window.e2e || {};
    return { ...rest, received: (received || []).length, sent: (sent || []).length };
  });
}

function eventLogOf(page) {
  return page.evaluate(() => (window.e2e ? window.e2e.log.join('\n') : ''));
}

async function run() {
  assert.ok(DAEMON_LOG && existsSync(DAEMON_LOG), `DAEMON_LOG must name turnpiked's log file (got "${DAEMON_LOG}")`);
  assert.ok(existsSync(SIO_BUNDLE), `no socket.io-client bundle at ${SIO_BUNDLE} (npm ci in tests/socketio)`);
  await launchBrowser();

  const a = await openSessionPage('A');
  const b = await openSessionPage('B');
  step('both pages at the daemon origin with the socket.io-client bundle');

  const sessionId = `call-${process.pid}-${OVER_TLS ? 'tls' : 'plain'}`;
  const userA = 'alice';
  const userB = 'bob';

  // A first (so that A gets peer:joined and is the initiator), and only once its peer connection exists.
  await a.evaluate(startClient, { url: `${BASE_URL}/sessions`, userId: userA, sessionId, iceFrom: 'rest' });
  await waitIn(a, 'its peer connection (ICE servers from POST /turn/credentials)', () => window.e2e.iceSource);
  await b.evaluate(startClient, { url: BASE_URL, userId: userB, sessionId, iceFrom: 'event',
                                  transports: ['websocket'] });
  await waitIn(b, 'its peer connection (ICE servers from ice_servers)', () => window.e2e.iceSource);
  step(`both connected to session ${sessionId}`);

  const stA = await stateOf(a);
  const stB = await stateOf(b);
  assert.equal(stA.iceSource, 'rest', 'A: ICE servers source');
  assert.equal(stA.restStatus, 200, 'A: POST /turn/credentials status');
  assert.equal(stB.iceSource, 'ice_servers', 'B: ICE servers source');
  assert.equal(stA.events[0], 'ice_servers', `A: first event ${stA.events}`);
  assert.equal(stB.events[0], 'ice_servers', `B: first event ${stB.events}`);
  assert.equal(stA.firstTransport, 'polling', 'A: default transports start with long-polling');
  assert.equal(stB.firstTransport, 'websocket', 'B: transports [websocket]');
  const turnA = turnEntry(a, stA.iceServers);
  const turnB = turnEntry(b, stB.iceServers);
  assert.notEqual(turnA.username, turnB.username, 'each user must get their own TURN user');
  assert.ok(stA.iceServersEvent, 'A: no ice_servers event');
  assert.equal(turnEntry(a, stA.iceServersEvent.iceServers).username, turnA.username,
               'A: POST /turn/credentials and the ice_servers event must hand out the same credentials');
  step(`TURN users: A ${turnA.username} (POST /turn/credentials), B ${turnB.username} (ice_servers event)`);

  await waitIn(a, 'the upgrade to websocket', () => window.e2e.upgraded && window.e2e.transport === 'websocket');
  step('A upgraded from polling to websocket');

  await Promise.all([a, b].map((page) => waitIn(page, 'the data channel to open',
                                                () => window.e2e.dataChannelState === 'open')));
  step('data channel open on both pages');
  const [finalA, finalB] = [await stateOf(a), await stateOf(b)];
  assert.equal(finalA.isInitiator, true, 'A got peer:joined and is the initiator');
  assert.equal(finalB.isInitiator, false, 'B got no peer:joined');
  assert.equal(finalA.peer, userB, 'A: peer:joined names B');
  assert.equal(finalB.signals[0]?.type, 'offer', `B: first signal ${JSON.stringify(finalB.signals)}`);
  assert.ok(finalB.signals.every((s) => s.from === userA), `B: signals not all from ${userA}`);
  assert.ok(finalA.signals.some((s) => s.type === 'answer'), 'A got the answer');
  assert.ok(finalA.signals.every((s) => s.from === userB), `A: signals not all from ${userB}`);
  for (const st of [finalA, finalB]) {
    assert.equal(st.connects, 1, 'each page connects exactly once');
    assert.ok(st.signals.some((s) => s.type === 'candidate'), 'candidates arrive through signal');
  }

  for (const page of [a, b]) {
    const pair = await waitIn(page, 'a selected candidate pair', () => window.e2eSelectedPair());
    assert.equal(pair.localType, 'relay', `${page.label}: selected pair is ${pair.localType}/${pair.remoteType}`);
    step(`${page.label} selected pair ${pair.localType}/${pair.remoteType} (${pair.relayProtocol}) ` +
         `${pair.localAddress} -> ${pair.remoteAddress}`);
  }

  assert.equal(await a.evaluate(() => window.e2eSend('hello from A')), true, 'A: send');
  await waitIn(b, 'the message from A', () => window.e2e.received.includes('hello from A'));
  assert.equal(await b.evaluate(() => window.e2eSend('hello from B')), true, 'B: send');
  await waitIn(a, 'the message from B', () => window.e2e.received.includes('hello from B'));
  step('messages delivered both ways');

  // Both leave the session while the channel is up; probes then go both ways every PROBE_INTERVAL_MS.
  const revokedBefore = revocationsLogged();
  const killedBefore = await sessionsKilled();
  await Promise.all([a, b].map((page) => page.evaluate(() => window.e2eDisconnect())));
  const leftAt = Date.now();
  step('both sockets disconnected');
  // The session is empty: the REST route now has no live socket of the user and hands out STUN only.
  const after = await fetch(`${BASE_URL}/turn/credentials`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: userA, sessionId }),
  });
  const afterBody = await after.json();
  assert.ok(after.status === 200 && afterBody.iceServers.every((entry) => !entry.username),
            `POST /turn/credentials after the disconnect: ${after.status} ${JSON.stringify(afterBody)}`);

  const probes = [];  // {from, text, at}
  let revokedAt = 0;
  let killedAt = 0;
  let killed = killedBefore;
  for (let n = 0; ; n += 1) {
    const now = Date.now();
    if (killedAt && now - killedAt >= KILL_MARGIN_MS + NO_DELIVERY_WINDOW_MS) break;
    assert.ok(now - leftAt < STOP_BOUND_MS,
              `within ${STOP_BOUND_MS} ms of the disconnect: revocation ${revokedAt ? 'logged' : 'not logged'}, ` +
              `relay sessions ended ${killed - killedBefore} (expected at least 2)`);
    for (const [page, from] of [[a, 'A'], [b, 'B']]) {
      const text = `probe-${from}-${n}`;
      if (await page.evaluate((t) => window.e2eSend(t), text)) probes.push({ from, text, at: Date.now() });
    }
    if (!revokedAt && revocationsLogged() > revokedBefore) {
      revokedAt = Date.now();
      step(`session_credentials_revoked logged ${((revokedAt - leftAt) / 1000).toFixed(1)} s after the disconnect`);
    }
    if (revokedAt && !killedAt) {
      killed = await sessionsKilled();
      if (killed - killedBefore >= 2) {
        killedAt = Date.now();
        step(`the daemon ended ${killed - killedBefore} relay sessions in coturn`);
      }
    }
    await sleep(Math.max(0, PROBE_INTERVAL_MS - (Date.now() - now)));
  }
  await sleep(500);  // stragglers that were already on their way
  const receivedBy = { A: await a.evaluate(() => window.e2e.received), B: await b.evaluate(() => window.e2e.received) };
  const delivered = (p) => receivedBy[p.from === 'A' ? 'B' : 'A'].includes(p.text);

  assert.ok(revokedAt - leftAt >= GRACE_SECONDS * 900,
            `credentials revoked ${revokedAt - leftAt} ms after the session emptied, grace is ${GRACE_SECONDS} s`);
  const early = probes.filter((p) => p.at - leftAt < GRACE_SECONDS * 500);
  assert.ok(early.length >= 2 && early.every(delivered),
            `probes sent while the credentials were still valid must arrive: ${JSON.stringify(early.map(delivered))}`);
  const late = probes.filter((p) => p.at >= killedAt + KILL_MARGIN_MS);
  const lateDelivered = late.filter(delivered);
  const closedStates = await Promise.all([a, b].map((page) => page.evaluate(
      () => [window.e2e.dataChannelState, window.e2e.iceConnectionState, window.e2e.connectionState])));
  // A page whose channel closed sends no more probes, which also counts as "stopped".
  const stoppedPages = closedStates.filter(([dcState]) => dcState !== 'open').length;
  assert.ok(late.length >= 4 || stoppedPages === 2,
            `too few probes after the relays were ended (${late.length}) to judge delivery`);
  assert.deepEqual(lateDelivered.map((p) => p.text), [],
                   'probes sent after the relays were ended must not arrive');
  const lastDelivered = probes.filter(delivered).at(-1);
  step(`${probes.filter(delivered).length}/${probes.length} probes delivered; last one sent ` +
       `${lastDelivered ? ((lastDelivered.at - leftAt) / 1000).toFixed(1) : '-'} s after the disconnect; ` +
       `none of the ${late.length} sent from ${KILL_MARGIN_MS} ms after the kill; ` +
       `states A ${closedStates[0].join('/')}, B ${closedStates[1].join('/')}`);

  const problems = [];
  for (const page of [a, b]) {
    problems.push(...pageProblems(page));
    const sockets = page.socketUrls.filter((u) => new URL(u).pathname === '/socket.io/');
    if (sockets.length !== 1 || new URL(sockets[0]).protocol !== WS_SCHEME) {
      problems.push(`${page.label}: expected one ${WS_SCHEME} Socket.IO WebSocket, saw ${page.socketUrls.join(', ') || 'none'}`);
    }
    const errors = await page.evaluate(() => window.e2e.errors);
    if (errors.length) problems.push(`${page.label}: client errors: ${errors.join(' | ')}`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
}

await runMain(run, {
  timeoutMs: TOTAL_TIMEOUT_MS,
  passLine: 'PASS (seed-002 Socket.IO flow, relay-only data channel, relays ended after the grace period)',
  stateOf,
  eventLogOf,
  artifactPrefix: 'seed002-',
});
