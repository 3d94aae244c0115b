// Drives any number of socket.io-client sockets for the Python integration tests (tests/integration/sioutil.py).
//
// Commands, one JSON object per stdin line:
//   {"op":"connect","id":"a","url":"http://127.0.0.1:PORT/sessions","opts":{"auth":{...},"transports":["websocket"]}}
//       opts go to io() as given, over these defaults: forceNew (one Manager, one Engine.IO session per socket),
//       reconnection:false (a refused connect is reported once, not retried), timeout:5000.
//   {"op":"emit","id":"a","event":"signal","args":[{...}],"ack":false}   ack:true reports the ack's arguments
//       ("ack") or, after ack_timeout_ms (default 5000), "ack_timeout". args [] sends the event with no argument.
//   {"op":"emit_raw","id":"a","data":"42[\"x\"]"}   writes one Engine.IO message packet (a Socket.IO packet as
//       text) on the socket's Engine.IO session, bypassing the Socket.IO encoder.
//   {"op":"disconnect","id":"a"}   {"op":"close_all"}   {"op":"sync","token":"t"} (answered by kind "sync")
// Reports, one JSON object per stdout line, each with the socket id it concerns:
//   {"id":"a","kind":"connect","sid":"<socket id>","engine_sid":"...","transport":"polling"}
//   {"id":"a","kind":"connect_error","message":"...","data":...}
//   {"id":"a","kind":"event","event":"peer:joined","args":[...]}
//   {"id":"a","kind":"disconnect","reason":"..."}
//   {"id":"a","kind":"upgrade","transport":"websocket"}
//   {"id":"a","kind":"ack","event":"...","args":[...]} / {"id":"a","kind":"ack_timeout","event":"..."}
//   {"id":null,"kind":"error","message":"..."} for a command that could not be carried out.
// The process exits when stdin closes, after closing every socket.
import readline from "node:readline";
import { io } from "socket.io-client";

const sockets = new Map();

function report(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function connect(cmd) {
  const { id, url } = cmd;
  if (sockets.has(id)) sockets.get(id).disconnect();
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 5000, ...(cmd.opts || {}) });
  sockets.set(id, socket);
  const manager = socket.io;
  manager.on("open", () => {
    manager.engine.on("upgrade", (transport) => report({ id, kind: "upgrade", transport: transport.name }));
  });
  socket.on("connect", () => {
    report({ id, kind: "connect", sid: socket.id, engine_sid: manager.engine?.id ?? null,
             transport: manager.engine?.transport?.name ?? null });
  });
  socket.on("connect_error", (err) => {
    report({ id, kind: "connect_error", message: err.message, data: err.data ?? null });
  });
  socket.on("disconnect", (reason) => report({ id, kind: "disconnect", reason }));
  socket.onAny((event, ...args) => report({ id, kind: "event", event, args }));
}

function emit(cmd) {
  const socket = sockets.get(cmd.id);
  if (!socket) return report({ id: cmd.id, kind: "error", message: `no socket ${cmd.id}` });
  const args = cmd.args || [];
  if (cmd.ack) {
    socket.timeout(cmd.ack_timeout_ms ?? 5000).emit(cmd.event, ...args, (err, ...reply) => {
      if (err) report({ id: cmd.id, kind: "ack_timeout", event: cmd.event });
      else report({ id: cmd.id, kind: "ack", event: cmd.event, args: reply });
    });
  } else {
    socket.emit(cmd.event, ...args);
  }
}

function emitRaw(cmd) {
  const engine = sockets.get(cmd.id)?.io?.engine;
  if (!engine) return report({ id: cmd.id, kind: "error", message: `no engine for ${cmd.id}` });
  engine.write(cmd.data);
}

function closeAll() {
  for (const socket of sockets.values()) socket.disconnect();
  sockets.clear();
}

const handlers = {
  connect,
  emit,
  emit_raw: emitRaw,
  disconnect: (cmd) => {
    sockets.get(cmd.id)?.disconnect();
    sockets.delete(cmd.id);
  },
  close_all: closeAll,
  sync: (cmd) => report({ id: cmd.id ?? null, kind: "sync", token: cmd.token ?? null }),
};

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    const handler = handlers[cmd.op];
    if (!handler) throw new Error(`unknown op ${cmd.op}`);
    handler(cmd);
  } catch (err) {
    report({ id: cmd?.id ?? null, kind: "error", message: String(err?.message ?? err) });
  }
});
rl.on("close", () => {
  closeAll();
  // Give the close packets a moment to leave, then go; never linger.
  setTimeout(() => process.exit(0), 200).unref();
});
