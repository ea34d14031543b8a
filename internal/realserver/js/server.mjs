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

    handler = toNodeHandler(auth);
    process.stdout.write(JSON.stringify({ url: siteURL, alg }) + "\n");
  } catch (err) {
    fail(`startup: ${err?.stack ?? err}`);
  }
});

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
