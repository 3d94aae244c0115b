// The seed-002 signaling server (packages/services/signaling of the SkillSwap Hub seed), re-implemented from the
// description of its behaviour in ../shared/reference/seed-dialects.md §1.2-§1.5, on plain node:http instead of
// Express, so that the Socket.IO contract tests can run against the real socket.io server package.
//
// Usage: node seed002_server.mjs [PORT]   (0 or nothing: a free port). Listens on 127.0.0.1 and prints
// "listening PORT" as its first stdout line; logs go to stderr.
// Environment: ALLOWED_ORIGINS (as the seed: comma-separated, default includes '*'), and two test-only knobs that
// the seed does not have: PING_INTERVAL_MS, PING_TIMEOUT_MS (Socket.IO defaults 25000/20000 when unset).
import http from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 0);
const allowedOrigins = process.env.ALLOWED_ORIGINS?.split(",") ||
  ["http://localhost:5173", "http://localhost:3000", "*"];
const log = (line) => process.stderr.write(`info: ${line} {"timestamp":"${new Date().toISOString()}"}\n`);

// RateLimiter(10, 1000): a fixed window per key, opened by the first accepted attempt; rejected attempts are not
// counted; expired entries are swept every 60 s.
class RateLimiter {
  constructor(maxRequests, windowMs) {
    this.maxRequests = maxRequests;
    this.windowMs = windowMs;
    this.entries = new Map();
    setInterval(() => {
      const now = Date.now();
      for (const [key, entry] of this.entries) if (now > entry.resetAt) this.entries.delete(key);
    }, 60000).unref();
  }
  check(key) {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (!entry || now > entry.resetAt) {
      this.entries.set(key, { count: 1, resetAt: now + this.windowMs });
      return true;
    }
    if (entry.count >= this.maxRequests) return false;
    entry.count++;
    return true;
  }
}

// Express cors({origin: fn, credentials: true}): reflect an allowed origin, 500 for a refused one.
function corsAllows(origin) {
  return !origin || allowedOrigins.includes("*") || allowedOrigins.includes(origin);
}

const STUN = [
  { urls: "stun:stun.l.google.com:19302" },
  { urls: "stun:stun1.l.google.com:19302" },
  { urls: "stun:stun2.l.google.com:19302" },
];

const httpServer = http.createServer((req, res) => {
  const origin = req.headers.origin;
  if (!corsAllows(origin)) {
    res.writeHead(500, { "Content-Type": "text/html; charset=utf-8" });
    res.end("<pre>Error: Not allowed by CORS</pre>\n");
    return;
  }
  const headers = { Vary: "Origin" };
  if (origin) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Access-Control-Allow-Credentials"] = "true";
  }
  const path = req.url.split("?")[0];
  const json = (status, body) => {
    res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  };
  if (req.method === "OPTIONS") {
    res.writeHead(204, { ...headers, "Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
                         "Content-Length": "0" });
    res.end();
  } else if (req.method === "GET" && path === "/health") {
    json(200, { status: "ok", timestamp: new Date().toISOString() });
  } else if (req.method === "POST" && path === "/turn/credentials") {
    req.resume(); // the body is ignored
    req.on("end", () => json(200, { iceServers: STUN, timestamp: Date.now() }));
  } else {
    res.writeHead(404, { ...headers, "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n` +
            `<body>\n<pre>Cannot ${req.method} ${path}</pre>\n</body>\n</html>\n`);
  }
});

const options = { cors: { origin: allowedOrigins.includes("*") ? true : allowedOrigins, credentials: true } };
if (process.env.PING_INTERVAL_MS) options.pingInterval = Number(process.env.PING_INTERVAL_MS);
if (process.env.PING_TIMEOUT_MS) options.pingTimeout = Number(process.env.PING_TIMEOUT_MS);
const io = new Server(httpServer, options);

const limiter = new RateLimiter(10, 1000);
io.use((socket, next) => {
  const { userId, sessionId } = socket.handshake.auth;
  if (!userId) return next(new Error("Authentication required"));
  if (!sessionId) return next(new Error("Session ID required"));
  socket.data.userId = userId;
  socket.data.sessionId = sessionId;
  next();
});
io.use((socket, next) => {
  if (!limiter.check(socket.data.userId)) return next(new Error("Rate limit exceeded"));
  next();
});

const sessions = new Map(); // sessionId -> Set<socketId>
io.on("connection", (socket) => {
  const { userId, sessionId } = socket.data;
  log(`User connected: ${userId} (socket: ${socket.id})`);
  socket.join(sessionId);
  if (!sessions.has(sessionId)) sessions.set(sessionId, new Set());
  sessions.get(sessionId).add(socket.id);
  log(`User ${userId} joined session ${sessionId}`);
  socket.to(sessionId).emit("peer:joined", { userId, socketId: socket.id });

  socket.on("signal", (data) => {
    // As in the seed, a missing or null payload throws here (data.type) and ends the process.
    log(`[Signal] From ${userId} in session ${sessionId} - type: ${data.type}`);
    socket.to(sessionId).emit("signal", { ...data, from: userId });
  });

  socket.on("disconnect", () => {
    const set = sessions.get(sessionId);
    if (set) {
      set.delete(socket.id);
      socket.to(sessionId).emit("peer:left", { userId, socketId: socket.id });
      if (set.size === 0) {
        sessions.delete(sessionId);
        log(`Session ${sessionId} cleaned up (no participants)`);
      }
    }
  });
});

process.on("SIGTERM", () => httpServer.close(() => process.exit(0)));
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});
