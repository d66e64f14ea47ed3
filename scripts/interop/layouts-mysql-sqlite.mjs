// Cross-checks the Drizzle layout of adapter-mysql and adapter-sqlite with
// the official @auth/drizzle-adapter (MySqlDrizzleAdapter on mysql2,
// SQLiteDrizzleAdapter on better-sqlite3, default schemas) on one database.
// For each backend, twice: on tables made by the official DDL (copied in
// adapter-{mysql,sqlite}/tests/fixtures) and then the Rust adapter's
// migrate(), and on tables made by migrate() alone:
//   Node -> Rust: the official adapter creates a user, a linked account, a
//     session, a verification token and a passkey; the Rust adapter reads
//     them field by field (getUser, getUserByEmail, getUserByAccount,
//     getAccount, getSessionAndUser, getAuthenticator, useVerificationToken),
//     then deletes the user; the official adapter then finds no account,
//     session or passkey of it.
//   Rust -> Node: the Rust adapter writes the same; the official adapter
//     reads them (the same calls), then deleteUser, after which Rust finds
//     no account, session or passkey of the user.
// One PASS/FAIL line per check; exits 1 on any FAIL.
//
//   node layouts-mysql-sqlite.mjs mysql  CLI MYSQL_URL
//   node layouts-mysql-sqlite.mjs sqlite CLI DIRECTORY
//       CLI: the built `mysql_layout_interop` / `sqlite_layout_interop` examples.
import { execFileSync } from "node:child_process"
import { readFileSync, mkdirSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { randomBytes } from "node:crypto"
import { DrizzleAdapter } from "@auth/drizzle-adapter"

const [backend, cli, target] = process.argv.slice(2)
if (!["mysql", "sqlite"].includes(backend) || !cli || !target) {
  console.error("usage: node layouts-mysql-sqlite.mjs mysql|sqlite CLI MYSQL_URL|DIRECTORY")
  process.exit(2)
}
const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")
const officialDdl = readFileSync(
  join(root, `adapter-${backend}`, "tests", "fixtures", `drizzle-${backend}.sql`),
  "utf8"
)
  .split("--> statement-breakpoint")
  .map((s) => s.split("\n").filter((l) => !l.trim().startsWith("--")).join("\n").trim())
  .map((s) => s.replace(/;$/, ""))
  .filter(Boolean)

let failures = 0
function check(name, ok, detail = "") {
  if (ok) {
    console.log(`PASS  ${name}`)
  } else {
    failures++
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ""}`)
  }
}

/** Auth.js objects in the JSON form the Rust example prints. */
function normal(value) {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(normal)
  if (typeof value === "object") {
    const out = {}
    for (const key of Object.keys(value).sort()) {
      out[key] = normal(value[key])
    }
    return out
  }
  return value
}
const show = (v) => JSON.stringify(normal(v))
function same(name, got, want) {
  const g = show(got)
  const w = show(want)
  check(name, g === w, `got ${g}, want ${w}`)
}
/** Field by field: one check per field, so a FAIL names the field. */
function fields(name, got, want) {
  if (got == null || want == null) {
    same(name, got, want)
    return
  }
  const g = normal(got)
  const w = normal(want)
  const keys = [...new Set([...Object.keys(w), ...Object.keys(g)])].sort()
  const bad = keys.filter((k) => JSON.stringify(g[k]) !== JSON.stringify(w[k]))
  check(
    name,
    bad.length === 0,
    bad.map((k) => `${k}: got ${JSON.stringify(g[k])}, want ${JSON.stringify(w[k])}`).join("; ")
  )
}

// ------------------------------------------------------------------ backends

/** A fresh database: { rustTarget, adapter (official), runDdl(), close() }. */
async function freshDatabase(name) {
  if (backend === "sqlite") {
    const { default: Database } = await import("better-sqlite3")
    const { drizzle } = await import("drizzle-orm/better-sqlite3")
    mkdirSync(target, { recursive: true })
    const file = join(target, `${name}.db`)
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true })
    const sqlite = new Database(file)
    // Drizzle relies on SQLite's foreign keys for deleteUser's cascade.
    sqlite.pragma("foreign_keys = ON")
    const db = drizzle({ client: sqlite })
    return {
      rustTarget: file,
      adapter: DrizzleAdapter(db),
      runDdl: async () => officialDdl.forEach((s) => sqlite.exec(s)),
      close: async () => {
        sqlite.close()
        for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true })
      },
    }
  }
  const mysql = (await import("mysql2/promise")).default
  const { drizzle } = await import("drizzle-orm/mysql2")
  const url = new URL(target)
  const admin = await mysql.createConnection({ uri: url.toString() })
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  url.pathname = `/${name}`
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 2 })
  const db = drizzle({ client: pool })
  return {
    rustTarget: url.toString(),
    adapter: DrizzleAdapter(db),
    runDdl: async () => {
      for (const s of officialDdl) await pool.query(s)
    },
    close: async () => {
      await pool.end()
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await admin.end()
    },
  }
}

function rust(rustTarget, ...args) {
  const out = execFileSync(cli, [rustTarget, "drizzle", "-", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  })
  return JSON.parse(out.trim().split("\n").pop())
}

// -------------------------------------------------------------------- checks

async function run(origin) {
  const tag = `${origin}${randomBytes(4).toString("hex")}`
  const label = `${backend}/drizzle/${origin}`
  const name = `interop_${backend}_${tag}`.replace(/-/g, "_")
  const db = await freshDatabase(name)
  try {
    if (origin === "official-ddl") await db.runDdl()
    const migrated = rust(db.rustTarget, "migrate")
    check(`${label}: Rust migrate()`, migrated.migrated === true)
    const a = db.adapter

    // ---- Node writes, Rust reads.
    const nodeUser = await a.createUser({
      id: "ignored-by-drizzle",
      name: `Node Ünïcödé ${tag} 🦀`,
      email: `${tag}@node.example`,
      emailVerified: new Date("2024-05-06T07:08:09.123Z"),
      image: `https://img.example/${tag}.png`,
    })
    const nodeAccount = {
      userId: nodeUser.id,
      type: "oidc",
      provider: "google",
      providerAccountId: `g-${tag}`,
      refresh_token: `refresh-${tag}`,
      access_token: `access-${tag}`,
      expires_at: 1_900_000_000,
      token_type: "bearer",
      scope: "openid email",
      id_token: `eyJ.${tag}.sig`,
      session_state: `state-${tag}`,
    }
    await a.linkAccount(nodeAccount)
    const nodeSession = await a.createSession({
      sessionToken: `node-session-${tag}`,
      userId: nodeUser.id,
      expires: new Date(Date.now() + 30 * 86400_000),
    })
    const nodeToken = await a.createVerificationToken({
      identifier: `${tag}@node.example`,
      token: `node-token-${tag}`,
      expires: new Date(Date.now() + 3600_000),
    })
    const nodeAuthenticator = await a.createAuthenticator({
      credentialID: `node-cred-${tag}`,
      userId: nodeUser.id,
      providerAccountId: `g-${tag}`,
      credentialPublicKey: "pQECAyYgASFYIE",
      counter: 3,
      credentialDeviceType: "singleDevice",
      credentialBackedUp: false,
      transports: "usb",
    })
    // What Node stored, as Node reads it back.
    const nodeRead = {
      user: await a.getUser(nodeUser.id),
      account: await a.getAccount(nodeAccount.providerAccountId, nodeAccount.provider),
      session: (await a.getSessionAndUser(nodeSession.sessionToken))?.session,
    }
    const r = rust(
      db.rustTarget,
      "read",
      nodeUser.id,
      nodeUser.email,
      nodeAccount.provider,
      nodeAccount.providerAccountId,
      nodeSession.sessionToken,
      nodeToken.identifier,
      nodeToken.token,
      nodeAuthenticator.credentialID
    )
    fields(`${label}: Node -> Rust getUser`, r.getUser, nodeRead.user)
    fields(`${label}: Node -> Rust getUserByEmail`, r.getUserByEmail, nodeRead.user)
    fields(`${label}: Node -> Rust getUserByAccount`, r.getUserByAccount, nodeRead.user)
    fields(`${label}: Node -> Rust getAccount`, r.getAccount, nodeRead.account)
    fields(`${label}: Node -> Rust getAccount = what Node linked`, r.getAccount, nodeAccount)
    same(`${label}: Node -> Rust listAccountsByUserId`, r.listAccounts, [nodeRead.account])
    fields(`${label}: Node -> Rust getSessionAndUser (session)`, r.getSessionAndUser?.session, nodeRead.session)
    fields(`${label}: Node -> Rust getSessionAndUser (user)`, r.getSessionAndUser?.user, nodeRead.user)
    fields(`${label}: Node -> Rust getAuthenticator`, r.getAuthenticator, nodeAuthenticator)
    fields(`${label}: Node -> Rust useVerificationToken`, r.useVerificationToken, nodeToken)
    same(
      `${label}: Node -> Rust token consumed for Node too`,
      await a.useVerificationToken({ identifier: nodeToken.identifier, token: nodeToken.token }),
      null
    )
    const deleted = rust(db.rustTarget, "delete-user", nodeUser.id)
    fields(`${label}: Node -> Rust deleteUser returns the user`, deleted.deleted, nodeRead.user)
    same(`${label}: Node -> Rust deleteUser cascade: getUser`, await a.getUser(nodeUser.id), null)
    same(
      `${label}: Node -> Rust deleteUser cascade: getUserByAccount`,
      await a.getUserByAccount({ provider: nodeAccount.provider, providerAccountId: nodeAccount.providerAccountId }),
      null
    )
    same(
      `${label}: Node -> Rust deleteUser cascade: getAccount`,
      await a.getAccount(nodeAccount.providerAccountId, nodeAccount.provider),
      null
    )
    same(
      `${label}: Node -> Rust deleteUser cascade: getSessionAndUser`,
      await a.getSessionAndUser(nodeSession.sessionToken),
      null
    )
    same(
      `${label}: Node -> Rust deleteUser cascade: getAuthenticator`,
      await a.getAuthenticator(nodeAuthenticator.credentialID),
      null
    )

    // ---- Rust writes, Node reads.
    const w = rust(db.rustTarget, "write", tag)
    fields(`${label}: Rust -> Node getUser`, await a.getUser(w.user.id), w.user)
    fields(`${label}: Rust -> Node getUserByEmail`, await a.getUserByEmail(w.user.email), w.user)
    fields(
      `${label}: Rust -> Node getUserByAccount`,
      await a.getUserByAccount({ provider: w.account.provider, providerAccountId: w.account.providerAccountId }),
      w.user
    )
    fields(
      `${label}: Rust -> Node getAccount`,
      await a.getAccount(w.account.providerAccountId, w.account.provider),
      w.account
    )
    const sessionAndUser = await a.getSessionAndUser(w.session.sessionToken)
    fields(`${label}: Rust -> Node getSessionAndUser (session)`, sessionAndUser?.session, w.session)
    fields(`${label}: Rust -> Node getSessionAndUser (user)`, sessionAndUser?.user, w.user)
    fields(
      `${label}: Rust -> Node getAuthenticator`,
      await a.getAuthenticator(w.authenticator.credentialID),
      w.authenticator
    )
    same(
      `${label}: Rust -> Node listAuthenticatorsByUserId`,
      await a.listAuthenticatorsByUserId(w.user.id),
      [w.authenticator]
    )
    const updated = await a.updateAuthenticatorCounter(w.authenticator.credentialID, 4_000_000_000)
    check(`${label}: Rust -> Node updateAuthenticatorCounter beyond i32`, updated?.counter === 4_000_000_000)
    fields(
      `${label}: Rust -> Node useVerificationToken`,
      await a.useVerificationToken({
        identifier: w.verificationToken.identifier,
        token: w.verificationToken.token,
      }),
      w.verificationToken
    )
    await a.deleteUser(w.user.id)
    const after = rust(
      db.rustTarget,
      "read",
      w.user.id,
      w.user.email,
      w.account.provider,
      w.account.providerAccountId,
      w.session.sessionToken,
      w.verificationToken.identifier,
      w.verificationToken.token,
      w.authenticator.credentialID
    )
    same(`${label}: Rust -> Node deleteUser cascade: getUser`, after.getUser, null)
    same(`${label}: Rust -> Node deleteUser cascade: getUserByAccount`, after.getUserByAccount, null)
    same(`${label}: Rust -> Node deleteUser cascade: getAccount`, after.getAccount, null)
    same(`${label}: Rust -> Node deleteUser cascade: listAccounts`, after.listAccounts, [])
    same(`${label}: Rust -> Node deleteUser cascade: getSessionAndUser`, after.getSessionAndUser, null)
    same(`${label}: Rust -> Node deleteUser cascade: getAuthenticator`, after.getAuthenticator, null)
    same(`${label}: Rust -> Node token used by Node is gone for Rust`, after.useVerificationToken, null)
  } catch (e) {
    check(`${label}: no error`, false, `${e?.stack ?? e}${e?.cause ? `\ncause: ${e.cause.stack ?? e.cause}` : ""}`)
  } finally {
    await db.close()
  }
}

for (const origin of ["official-ddl", "rust-migrate"]) {
  await run(origin)
}
if (failures) {
  console.log(`${failures} check(s) FAILED`)
  process.exit(1)
}
console.log("all checks passed")
