// Relay throughput of Socket.IO `signal` events vs the reference dialect's webrtc_offer, and Socket.IO
// long-polling sessions opened per second, against one running turnpiked (run by socketio_bench.py).
//
//   node tests/load/socketio_bench.mjs --url http://127.0.0.1:PORT [--pairs 50] [--window 8] [--seconds 5]
//                                      [--payload 200]
// Prints one JSON object. Every phase is bounded in time.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../socketio/package.json'));
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const args = {};
process.argv.slice(2).forEach((arg, i, all) => {
  if (arg.startsWith('--')) args[arg.slice(2)] = all[i + 1];
});
const url = args.url;
const pairs = Number(args.pairs ?? 50);
const windowSize = Number(args.window ?? 8);
const seconds = Number(args.seconds ?? 5);
const sdp = 'v'.repeat(Number(args.payload ?? 200));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function within(ms, promise, what) {
  return Promise.race([promise, sleep(ms).then(() => { throw new Error(`timed out: ${what}`); })]);
}

// Each pair keeps `windowSize` messages in flight: whoever receives one sends the next, until the clock stops.
async function measure(setup) {
  let received = 0;
  let running = true;
  const links = await within(30000, Promise.all(Array.from({ length: pairs }, (_, i) => setup(i, () => {
    received += 1;
    return running;
  }))), 'setup');
  for (const link of links) for (let k = 0; k < windowSize; k += 1) link.start();
  const before = received;
  const started = performance.now();
  await sleep(seconds * 1000);
  const count = received - before;
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  for (const link of links) link.close();
  return Math.round(count / elapsed);
}

function socketIoPair(i, onMessage) {
  const options = { auth: { userId: '', sessionId: `bench-${i}` }, transports: ['websocket'], reconnection: false };
  const a = io(`${url}/sessions`, { ...options, auth: { ...options.auth, userId: `a${i}` }, forceNew: true });
  const b = io(`${url}/sessions`, { ...options, auth: { ...options.auth, userId: `b${i}` }, forceNew: true });
  const send = (socket) => socket.emit('signal', { type: 'offer', sdp });
  for (const me of [a, b]) me.on('signal', () => { if (onMessage()) send(me); });
  return new Promise((resolve, reject) => {
    b.on('connect_error', reject);
    a.on('connect_error', reject);
    a.on('peer:joined', () => resolve({ start: () => send(a), close: () => { a.close(); b.close(); } }));
    a.on('connect', () => b.connect());
    b.disconnect();
  });
}

function referencePair(i, onMessage) {
  const room = `bench-room-${i}`;
  const open = () => new WebSocket(`${url.replace('http', 'ws')}/ws`);
  const a = open();
  const b = open();
  const send = (ws) => ws.send(JSON.stringify({ type: 'webrtc_offer', sdp }));
  let ready = 0;
  return new Promise((resolve, reject) => {
    for (const ws of [a, b]) {
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join_room', roomId: room })));
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.includes('"webrtc_offer"')) {
          if (onMessage()) send(ws);
        } else if (text.includes('"room_ready"') && (ready += 1) === 2) {
          resolve({ start: () => send(a), close: () => { a.close(); b.close(); } });
        }
      });
    }
  });
}

// Handshake, CONNECT to /sessions, its answer, and a close packet: one polling session, start to end.
async function pollingSessionsPerSecond() {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  let done = 0;
  const stop = performance.now() + seconds * 1000;
  const worker = async (w) => {
    for (let n = 0; performance.now() < stop; n += 1) {
      const open = await (await fetch(base)).text();
      const { sid } = JSON.parse(open.slice(1));
      const at = `${base}&sid=${sid}`;
      const connect = `40/sessions,{"userId":"p${w}-${n}","sessionId":"poll-${w}-${n}"}`;
      await (await fetch(at, { method: 'POST', body: connect })).text();
      await (await fetch(at)).text();
      await (await fetch(at, { method: 'POST', body: '1' })).text();
      done += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  return Math.round(done / ((performance.now() - started) / 1000));
}

const result = { pairs, window: windowSize, payload_bytes: sdp.length, seconds };
result.reference_relayed_per_second = await measure(referencePair);
result.socketio_relayed_per_second = await measure(socketIoPair);
result.ratio = Number((result.socketio_relayed_per_second / result.reference_relayed_per_second).toFixed(2));
result.polling_sessions_per_second = await pollingSessionsPerSecond();
console.log(JSON.stringify(result));
process.exit(0);
