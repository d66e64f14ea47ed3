// Cross-checks adapter-postgres's table layouts with the official Auth.js
// adapters that own them, on one PostgreSQL database:
//   drizzle    @auth/drizzle-adapter (PostgresDrizzleAdapter, default schema)
//   pg-adapter @auth/pg-adapter
// For each, twice: in a fresh schema made by the official DDL (copied in
// adapter-postgres/tests/fixtures) and then the Rust adapter's migrate(),
// and in one made by the Rust adapter's migrate() alone:
//   Node -> Rust: the official adapter creates a user, a linked account, a
//     session and a verification token; the Rust adapter reads them field by
//     field, then deletes the user (the account and session go with it).
//   Rust -> Node: the Rust adapter writes the same; the official adapter
//     reads them (getUser, getUserByEmail, getUserByAccount,
//     getSessionAndUser, useVerificationToken), then deleteUser, after which
//     Rust finds no account or session of the user.
// One PASS/FAIL line per check; exits 1 on any FAIL.
//
//   node layouts-pg.mjs CLI DATABASE_URL [layout...]
//       CLI: the built adapter-postgres example `pg_layout_interop`.
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { drizzle } from "drizzle-orm/node-postgres"
import { DrizzleAdapter } from "@auth/drizzle-adapter"
import PgAdapter from "@auth/pg-adapter"

const [cli, databaseUrl, ...wanted] = process.argv.slice(2)
if (!cli || !databaseUrl) {
  console.error("usage: node layouts-pg.mjs CLI DATABASE_URL [drizzle] [pg-adapter]")
  process.exit(2)
}
const layouts = wanted.length ? wanted : ["drizzle", "pg-adapter"]
const here = dirname(fileURLToPath(import.meta.url))
const fixtures = join(here, "..", "..", "adapter-postgres", "tests", "fixtures")
const officialDdl = {
  drizzle: readFileSync(join(fixtures, "drizzle-pg.sql"), "utf8"),
  "pg-adapter": readFileSync(join(fixtures, "pg-adapter-schema.sql"), "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("\\"))
    .join("\n"),
}

let failures = 0
function check(name, ok, detail = "") {
  if (ok) {
    console.log(`PASS  ${name}`)
  } else {
    failures++
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ""}`)
  }
}

/** Plain JSON of a value, Dates as milliseconds, keys sorted. */
function plain(value) {
  if (value instanceof Date) return value.getTime()
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, plain(value[k])])
    )
  }
  return value ?? null
}

/** Compares the fields of `want` in `got`, ids as strings. */
function same(name, got, want, fields) {
  if (got == null || want == null) {
    check(name, got == null && want == null, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
    return
  }
  const diffs = []
  for (const f of fields) {
    let g = plain(got[f])
    let w = plain(want[f])
    if (f === "id" || f === "userId") {
      g = g == null ? g : String(g)
      w = w == null ? w : String(w)
    }
    if (f === "expires_at" && typeof g === "string") g = Number(g)
    if (JSON.stringify(g) !== JSON.stringify(w)) diffs.push(`${f}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`)
  }
  check(name, diffs.length === 0, diffs.join("; "))
}

const USER = ["id", "name", "email", "emailVerified", "image"]
const ACCOUNT = [
  "userId",
  "type",
  "provider",
  "providerAccountId",
  "access_token",
  "refresh_token",
  "expires_at",
  "token_type",
  "scope",
  "id_token",
  "session_state",
]
const SESSION = ["sessionToken", "userId", "expires"]
const TOKEN = ["identifier", "token", "expires"]

function rust(layout, schema, ...args) {
  const out = execFileSync(cli, [databaseUrl, layout, schema, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  })
  return JSON.parse(out)
}

async function run(layout, made) {
  const tag = randomBytes(4).toString("hex")
  const schema = `interop_${layout.replace("-", "_")}_${tag}`
  const name = `${layout} (${made})`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`CREATE SCHEMA "${schema}"`)
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    options: `-c search_path="${schema}"`,
  })
  try {
    if (made === "official DDL") await pool.query(officialDdl[layout])
    const migrated = rust(layout, schema, "migrate")
    check(
      `${name}: migrate() ${made === "official DDL" ? "accepts the official tables" : "makes the tables"}`,
      migrated.migrated === true
    )
    const node = layout === "drizzle" ? DrizzleAdapter(drizzle(pool)) : PgAdapter(pool)

    // ---------------------------------------------------- Node writes, Rust reads
    const now = Math.floor(Date.now())
    const nodeUser = await node.createUser({
      id: crypto.randomUUID(),
      name: `Node ${tag} Zoë`,
      email: `node-${tag}@example.com`,
      emailVerified: new Date(now - 3_600_000),
      image: `https://example.com/node-${tag}.png`,
    })
    const userId = String(nodeUser.id)
    const nodeAccount = {
      userId: nodeUser.id,
      type: "oauth",
      provider: "github",
      providerAccountId: `node-gh-${tag}`,
      access_token: `access-${tag}`,
      refresh_token: `refresh-${tag}`,
      expires_at: Math.floor(now / 1000) + 3600,
      token_type: "bearer",
      scope: "openid email",
      id_token: `id-${tag}`,
      session_state: `state-${tag}`,
    }
    await node.linkAccount(nodeAccount)
    const nodeSession = {
      sessionToken: `node-session-${tag}`,
      userId: nodeUser.id,
      expires: new Date(now + 30 * 86_400_000),
    }
    await node.createSession(nodeSession)
    const nodeToken = {
      identifier: `node-${tag}@example.com`,
      token: `node-token-${tag}`,
      expires: new Date(now + 3_600_000),
    }
    await node.createVerificationToken(nodeToken)

    const read = rust(
      layout,
      schema,
      "read",
      userId,
      nodeAccount.provider,
      nodeAccount.providerAccountId,
      nodeSession.sessionToken,
      nodeToken.identifier,
      nodeToken.token
    )
    same(`${name}: Node -> Rust get_user`, read.user, nodeUser, USER)
    same(`${name}: Node -> Rust get_user_by_email`, read.userByEmail, nodeUser, USER)
    same(`${name}: Node -> Rust get_user_by_account`, read.userByAccount, nodeUser, USER)
    same(`${name}: Node -> Rust get_account`, read.account, nodeAccount, ACCOUNT)
    check(`${name}: Node -> Rust list_accounts_by_user_id`, read.accounts.length === 1)
    same(
      `${name}: Node -> Rust get_session_and_user (session)`,
      read.sessionAndUser?.session,
      nodeSession,
      SESSION
    )
    same(`${name}: Node -> Rust get_session_and_user (user)`, read.sessionAndUser?.user, nodeUser, USER)
    check(`${name}: Node -> Rust list_sessions_by_user_id`, read.sessions.length === 1)
    same(`${name}: Node -> Rust use_verification_token`, read.verificationToken, nodeToken, TOKEN)
    check(
      `${name}: Node -> Rust token consumed for Node too`,
      (await node.useVerificationToken({ identifier: nodeToken.identifier, token: nodeToken.token })) == null
    )
    const deleted = rust(layout, schema, "delete-user", userId)
    same(`${name}: Node -> Rust delete_user returns the user`, deleted.deleted, nodeUser, USER)
    check(
      `${name}: Node -> Rust delete_user cascade (Node sees no user, account, session)`,
      (await node.getUser(userId)) == null &&
        (await node.getUserByAccount({
          provider: nodeAccount.provider,
          providerAccountId: nodeAccount.providerAccountId,
        })) == null &&
        (await node.getSessionAndUser(nodeSession.sessionToken)) == null
    )

    // ---------------------------------------------------- Rust writes, Node reads
    const written = rust(layout, schema, "write", tag)
    const rUser = written.user
    same(`${name}: Rust -> Node getUser`, await node.getUser(rUser.id), rUser, USER)
    same(`${name}: Rust -> Node getUserByEmail`, await node.getUserByEmail(rUser.email), rUser, USER)
    same(
      `${name}: Rust -> Node getUserByAccount`,
      await node.getUserByAccount({
        provider: written.account.provider,
        providerAccountId: written.account.providerAccountId,
      }),
      rUser,
      USER
    )
    if (node.getAccount) {
      same(
        `${name}: Rust -> Node getAccount`,
        await node.getAccount(written.account.providerAccountId, written.account.provider),
        written.account,
        ACCOUNT
      )
    } else {
      // @auth/pg-adapter has no getAccount: read the row as it would.
      const { rows } = await pool.query(
        `SELECT * FROM accounts WHERE provider = $1 AND "providerAccountId" = $2`,
        [written.account.provider, written.account.providerAccountId]
      )
      same(`${name}: Rust -> Node account row`, rows[0], written.account, ACCOUNT)
    }
    const sessionAndUser = await node.getSessionAndUser(written.session.sessionToken)
    same(`${name}: Rust -> Node getSessionAndUser (session)`, sessionAndUser?.session, written.session, SESSION)
    same(`${name}: Rust -> Node getSessionAndUser (user)`, sessionAndUser?.user, rUser, USER)
    same(
      `${name}: Rust -> Node useVerificationToken`,
      await node.useVerificationToken({
        identifier: written.verificationToken.identifier,
        token: written.verificationToken.token,
      }),
      written.verificationToken,
      TOKEN
    )
    await node.deleteUser(rUser.id)
    const after = rust(
      layout,
      schema,
      "read",
      rUser.id,
      written.account.provider,
      written.account.providerAccountId,
      written.session.sessionToken,
      written.verificationToken.identifier,
      written.verificationToken.token
    )
    check(
      `${name}: Rust -> Node deleteUser cascade (Rust sees no user, account, session)`,
      after.user === null &&
        after.userByAccount === null &&
        after.account === null &&
        after.accounts.length === 0 &&
        after.sessionAndUser === null &&
        after.sessions.length === 0,
      JSON.stringify(after)
    )
  } catch (e) {
    check(`${name}: the run`, false, e.stack ?? String(e))
  } finally {
    await pool.end()
    if (failures === 0) await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
    else console.log(`      (schema ${schema} kept for inspection)`)
    await admin.end()
  }
}

for (const layout of layouts) {
  if (!officialDdl[layout]) {
    check(`${layout}: known layout`, false, "expected drizzle or pg-adapter")
    continue
  }
  await run(layout, "official DDL")
  await run(layout, "Rust migrate()")
}
console.log(failures === 0 ? "all PostgreSQL layout checks passed" : `${failures} check(s) failed`)
process.exit(failures === 0 ? 0 : 1)
