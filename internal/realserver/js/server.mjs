// A real Better Auth server (in-memory database + the Convex plugin) on
// loopback, for authscope integration tests.
//
// Usage:
//   node server.mjs [--alg EdDSA|RS256] [--port N] [--keep-stdin]
//
// Environment (flags win): AUTHSCOPE_ALG (default EdDSA), PORT (default 0 =
// any free port), BETTER_AUTH_SECRET (default: a fixed test secret).
//
// When the server is listening it prints exactly one JSON line to stdout,
//   {"url":"http://127.0.0.1:43123","alg":"EdDSA"}
// and nothing else ever goes to stdout (all logging goes to stderr). It exits
// when stdin reaches EOF (so a parent that dies never leaves it behind; pass
// --keep-stdin to disable that for manual use) or on SIGTERM/SIGINT.

import http from "node:http";
import process from "node:process";

// Keep stdout for the ready line only: anything a library logs with
// console.log/info/debug goes to stderr instead.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

const DEFAULT_SECRET = "authscope-realserver-fixed-test-secret-do-not-use-in-prod";

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === "--alg") out.alg = next();
    else if (a.startsWith("--alg=")) out.alg = a.slice(6);
    else if (a === "--port") out.port = next();
    else if (a.startsWith("--port=")) out.port = a.slice(7);
    else if (a === "--keep-stdin") out.keepStdin = true;
    else fail(`unknown argument ${a}`);
  }
  return out;
}

function fail(msg) {
  process.stderr.write(`realserver: ${msg}\n`);
  process.exit(2);
}

const args = parseArgs(process.argv.slice(2));
const alg = args.alg ?? process.env.AUTHSCOPE_ALG ?? "EdDSA";
if (alg !== "EdDSA" && alg !== "RS256") fail(`unsupported alg ${JSON.stringify(alg)} (want EdDSA or RS256)`);
const port = Number(args.port ?? process.env.PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${JSON.stringify(args.port ?? process.env.PORT)}`);

// Defaults that must hold before better-auth is imported (it reads the
// environment at module load): no telemetry, and no NODE_ENV/TEST, because
// NODE_ENV=test / TEST=1 would switch the Origin/CSRF check off and
// NODE_ENV=production would change cookie and rate-limit defaults.
process.env.BETTER_AUTH_TELEMETRY = "0";
delete process.env.TEST;
delete process.env.NODE_ENV;
const secret = process.env.BETTER_AUTH_SECRET || DEFAULT_SECRET;

let handler = null;
const server = http.createServer((req, res) => {
  if (!handler) {
    res.statusCode = 503;
    res.end();
    return;
  }
  handler(req, res);
});

server.on("error", (err) => fail(`listen: ${err.message}`));

server.listen(port, "127.0.0.1", async () => {
  try {
    const { port: actual } = server.address();
    const siteURL = `http://127.0.0.1:${actual}`;
    // The Convex plugin reads CONVEX_SITE_URL when convex() is called; it
    // becomes the JWT iss and the OIDC issuer.
    process.env.CONVEX_SITE_URL = siteURL;

    const { betterAuth } = await import("better-auth");
    const { memoryAdapter } = await import("better-auth/adapters/memory");
    const { toNodeHandler } = await import("better-auth/node");
    const { convex } = await import("@convex-dev/better-auth/plugins");

    const providers =
      alg === "RS256"
        ? [
            {
              type: "customJwt",
              applicationID: "convex",
              issuer: siteURL,
              jwks: `${siteURL}/api/auth/convex/jwks`,
              algorithm: "RS256",
            },
          ]
        : [{ applicationID: "convex", domain: siteURL }];
    const authConfig = { providers };

    const db = { user: [], session: [], account: [], verification: [], jwks: [] };
    const memory = memoryAdapter(db);
    // The Convex plugin turns every adapter write into a no-op unless the
    // adapter says it runs in a Convex mutation context.
    const database = (options) => {
      const adapter = memory(options);
      adapter.options = { ...(adapter.options ?? {}), isRunMutationCtx: true };
      return adapter;
    };

    const writeLog = (level, message, ...rest) => {
      const extra = rest.length ? " " + rest.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join(" ") : "";
      process.stderr.write(`[better-auth ${level}] ${message}${extra}\n`);
    };

    const auth = betterAuth({
      baseURL: siteURL,
      basePath: "/api/auth",
      secret,
      database,
      emailAndPassword: { enabled: true },
      plugins: [convex({ authConfig })],
      telemetry: { enabled: false },
      // A normal deployment: the Origin/CSRF check is on (explicitly, so an
      // inherited NODE_ENV=test cannot switch it off). The server's own
      // origin is trusted because it is the baseURL.
      advanced: { disableOriginCheck: false, disableCSRFCheck: false },
      // Off so that tests hammering sign-in are not throttled (it is also
      // off by default outside NODE_ENV=production).
      rateLimit: { enabled: false },
      logger: { level: "warn", log: writeLog },
    });

    const authHandler = toNodeHandler(auth);
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    handler = (req, res) => {
      if (req.method === "POST" && req.url === "/api/query") {
        convexQuery(req, res, { siteURL, db, createLocalJWKSet, jwtVerify }).catch((err) => {
          process.stderr.write(`realserver: /api/query: ${err?.stack ?? err}\n`);
          sendJSON(res, 500, { code: "InternalServerError", message: "query failed" });
        });
        return;
      }
      authHandler(req, res);
    };
    process.stdout.write(JSON.stringify({ url: siteURL, alg }) + "\n");
  } catch (err) {
    fail(`startup: ${err?.stack ?? err}`);
  }
});

// A Convex-like POST /api/query beside Better Auth, so the integration tests
// can run the Convex client model against this real server. It is the test
// harness's stand-in for a Convex deployment, not Better Auth code: it
// verifies the bearer JWT against this server's own JWKS (iss = the site
// URL, aud = convex), then runs auth:getAuthUser as @convex-dev/better-auth
// does: the JWT's sessionId must name a stored, unexpired session and sub a
// stored user, else ConvexError("Unauthenticated"). Shapes follow the
// simulator's (fetcher/authsim/query.go).
const verifyFailed =
  "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.";

function sendJSON(res, status, body) {
  const b = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(b) });
  res.end(b);
}

async function readBody(req, limit) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > limit) throw new Error("body too large");
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function convexQuery(req, res, { siteURL, db, createLocalJWKSet, jwtVerify }) {
  let body;
  try {
    body = JSON.parse(await readBody(req, 1 << 20));
  } catch {
    return sendJSON(res, 400, { code: "BadJsonBody", message: "invalid JSON body" });
  }
  const fail = (message, data) =>
    sendJSON(res, 560, { status: "error", errorMessage: message, errorData: data, logLines: [] });
  let identity = null;
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer (.+)$/i.exec(header);
    if (!m) return sendJSON(res, 401, { code: "InvalidAuthHeader", message: "Authorization header is not a bearer token" });
    try {
      const jwksRes = await fetch(`${siteURL}/api/auth/convex/jwks`);
      const keys = createLocalJWKSet(await jwksRes.json());
      const { payload } = await jwtVerify(m[1], keys, { issuer: siteURL, audience: "convex" });
      identity = payload;
    } catch {
      return sendJSON(res, 401, { code: "Unauthenticated", message: verifyFailed });
    }
  }
  if (body?.path !== "auth:getAuthUser") return fail(`Could not find public function for '${body?.path}'`);
  const now = Date.now();
  const session = identity && db.session.find((s) => s.id === identity.sessionId && new Date(s.expiresAt).getTime() > now);
  const user = session && db.user.find((u) => u.id === identity.sub);
  if (!user) return fail("Uncaught ConvexError: Unauthenticated", "Unauthenticated");
  sendJSON(res, 200, {
    status: "success",
    value: { _id: user.id, name: user.name, email: user.email, emailVerified: user.emailVerified },
    logLines: [],
  });
}

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`realserver: stopping (${reason})\n`);
  server.close();
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 50).unref();
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
if (!args.keepStdin) {
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin error"));
  process.stdin.on("data", () => {});
  process.stdin.resume();
}
