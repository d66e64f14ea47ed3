// Runs one official Auth.js adapter through the workload of docs/workload.md,
// the same as the Rust runner (adapter-bench/src/lib.rs), and prints one JSON
// line per operation on stdout; progress and everything else go to stderr.
//
//   node bench.mjs --backend postgres --variant as-shipped [--users N]
//       [--ops N] [--concurrency C] [--url URL]
//
// Backends and variants (backends.mjs): postgres (@auth/pg-adapter) and mysql
// (@auth/kysely-adapter): as-shipped, indexed; mongodb (@auth/mongodb-adapter):
// as-shipped, indexed; redis (@auth/unstorage-adapter): as-shipped. The URL
// defaults to POSTGRES_URL, MYSQL_URL, MONGODB_URL or REDIS_URL. Each run
// works in a fresh schema, database or key prefix and removes it at the end.
//
// The workload: seed --users users (user i: `User i`, user{i}@bench.example,
// a GitHub account gh-{i}, one session expiring in 30 days) through the
// backend's bulk path, with user 0 seeded through the adapter's own calls;
// read a sample back through the adapter; then time, each on its own, with
// --concurrency workers sharing --ops operations: getSessionAndUser (after
// 1,000 untimed ones), getUserByAccount, updateSession, createSession and
// useVerificationToken (of tokens created beforehand, untimed).
import { randomBytes } from "node:crypto"
import { performance } from "node:perf_hooks"
import { backends, installedVersion } from "./backends.mjs"

const SEED_BATCH = 1_000
const SEED_TASKS = 4
const DAY_MS = 86_400_000

const usage =
  "usage: node bench.mjs --backend postgres|mysql|mongodb|redis --variant as-shipped|indexed " +
  "[--users N] [--ops N] [--concurrency C] [--url URL]"

function parseArgs(argv) {
  const config = { backend: null, variant: "as-shipped", users: 10_000, ops: 20_000, concurrency: 32, url: null }
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k]
    const value = () => {
      if (k + 1 >= argv.length) throw new Error(`${flag} needs a value; ${usage}`)
      return argv[++k]
    }
    const number = (v) => {
      const n = Number(v.replaceAll("_", ""))
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${JSON.stringify(v)} is not a positive number; ${usage}`)
      return n
    }
    switch (flag) {
      case "--backend": config.backend = value(); break
      case "--variant": config.variant = value(); break
      case "--users": config.users = number(value()); break
      case "--ops": config.ops = number(value()); break
      case "--concurrency": config.concurrency = number(value()); break
      case "--url": config.url = value(); break
      case "-h": case "--help": console.error(usage); process.exit(0)
      default: throw new Error(`unknown argument ${JSON.stringify(flag)}; ${usage}`)
    }
  }
  const backend = backends[config.backend]
  if (!backend) throw new Error(`--backend must be one of ${Object.keys(backends).join(", ")}; ${usage}`)
  if (!backend.variants.includes(config.variant)) {
    throw new Error(`${config.backend} has the variants ${backend.variants.join(", ")}, not ${config.variant}`)
  }
  config.url ??= process.env[backend.urlEnv] || null
  if (!config.url) throw new Error(`no URL: pass --url or set ${backend.urlEnv}`)
  return config
}

/** A session token as the Rust runner makes them: 64 hex digits. */
const sessionToken = () => randomBytes(32).toString("hex")
const in30Days = () => new Date(Date.now() + 30 * DAY_MS)

/** Dataset user i (adapter-bench's SeedUser::new). */
function seedUser(i) {
  return {
    i,
    user: { name: `User ${i}`, email: `user${i}@bench.example`, emailVerified: null },
    account: {
      type: "oauth",
      provider: "github",
      providerAccountId: `gh-${i}`,
      access_token: `gho_${i.toString(16).padStart(36, "0")}`,
      token_type: "bearer",
      scope: "read:user",
    },
    session: { sessionToken: sessionToken(), expires: in30Days() },
  }
}

/** Seeds one dataset user through the adapter's own calls; returns its id. */
async function seedThroughAdapter(adapter, record) {
  const user = await adapter.createUser(record.user)
  await adapter.linkAccount({ ...record.account, userId: user.id })
  await adapter.createSession({ ...record.session, userId: user.id })
  return user.id
}

async function seed(store, users) {
  const userIds = new Array(users)
  const tokens = new Array(users)
  // User 0 through the adapter: what the bulk path must store alike.
  const first = seedUser(0)
  userIds[0] = await seedThroughAdapter(store.adapter, first)
  tokens[0] = first.session.sessionToken
  let next = 1
  const task = async () => {
    for (;;) {
      const start = next
      if (start >= users) return
      next = Math.min(users, start + SEED_BATCH)
      const records = []
      for (let i = start; i < next; i++) records.push(seedUser(i))
      const ids = await store.seed(records)
      records.forEach((r, k) => {
        userIds[r.i] = ids[k]
        tokens[r.i] = r.session.sessionToken
      })
    }
  }
  await Promise.all(Array.from({ length: SEED_TASKS }, task))
  return { userIds, tokens }
}

/** The keys of an object with the kind of each value, to compare layouts. */
function layout(object) {
  const kind = (v) => (v == null ? "null" : v instanceof Date ? "date" : typeof v)
  return JSON.stringify(
    Object.keys(object)
      .sort()
      .map((k) => [k, kind(object[k])])
  )
}

/**
 * Reads 64 users spread over the dataset back through the adapter: the values
 * must be the dataset's and the layout of every user and session the one the
 * adapter gives for user 0, which its own calls stored.
 */
async function verify(adapter, data) {
  const users = data.userIds.length
  const reference = await adapter.getSessionAndUser(data.tokens[0])
  if (!reference) throw new Error("the adapter does not find the session it created for user 0")
  const sample = Math.min(64, users)
  for (let k = 0; k < sample; k++) {
    const i = sample > 1 ? Math.floor((k * (users - 1)) / (sample - 1)) : 0
    const want = seedUser(i)
    const id = String(data.userIds[i])
    const fail = (what) => {
      throw new Error(`bulk seeding stored user ${i} differently from the adapter: ${what}`)
    }
    const user = await adapter.getUserByAccount({ provider: "github", providerAccountId: `gh-${i}` })
    if (!user) fail(`no user for account gh-${i}`)
    if (String(user.id) !== id || user.name !== want.user.name || user.email !== want.user.email || user.emailVerified != null) {
      fail(`getUserByAccount gave ${JSON.stringify(user)}`)
    }
    if (layout(user) !== layout(reference.user)) fail(`user fields ${layout(user)}, adapter's ${layout(reference.user)}`)
    const found = await adapter.getSessionAndUser(data.tokens[i])
    if (!found) fail("no session")
    const { session, user: owner } = found
    const drift = Math.abs(new Date(session.expires).getTime() - want.session.expires.getTime())
    if (session.sessionToken !== data.tokens[i] || String(session.userId) !== id || String(owner.id) !== id || drift > 10 * 60_000) {
      fail(`getSessionAndUser gave ${JSON.stringify(found)}`)
    }
    if (layout(session) !== layout(reference.session)) {
      fail(`session fields ${layout(session)}, adapter's ${layout(reference.session)}`)
    }
  }
}

/**
 * Runs `ops` calls of `op(i)` for i in 0..ops on `concurrency` async workers
 * and records each call's latency (milliseconds).
 */
async function timed(concurrency, ops, op) {
  const latencies = new Float64Array(ops)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= ops) return
      const t = performance.now()
      await op(i)
      latencies[i] = performance.now() - t
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, worker))
  const secs = (performance.now() - started) / 1000
  latencies.sort()
  // As the Rust runner: the sample at round((n - 1) * q), in whole microseconds.
  const at = (q) => (ops ? Math.floor(latencies[Math.round((ops - 1) * q)] * 1000) : 0)
  return { secs, p50_us: at(0.5), p99_us: at(0.99) }
}

async function main() {
  const config = parseArgs(process.argv.slice(2))
  const { backend: name, variant, users, ops, concurrency } = config
  const backend = backends[name]
  const adapterName = `${backend.adapterPackage}@${installedVersion(backend.adapterPackage)}`
  const label = `${name}/${variant}`
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
  const store = await backend.open({ url: config.url, variant, tag })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    console.error(`${label}: removing the store`)
    await store.close()
  }
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      console.error(`${label}: ${signal}, cleaning up`)
      const timeout = setTimeout(() => process.exit(130), 15_000)
      close()
        .catch((e) => console.error(`${label}: cleanup failed: ${e.message}`))
        .finally(() => {
          clearTimeout(timeout)
          process.exit(130)
        })
    })
  }

  const results = []
  let seedSecs
  try {
    const { adapter } = store
    const must = (op) => (ok) => {
      if (!ok) throw new Error(`${op}: a seeded record was not found`)
    }
    console.error(`${label}: ${adapterName} on Node ${process.version}; seeding ${users} users`)
    const started = performance.now()
    const data = await seed(store, users)
    seedSecs = (performance.now() - started) / 1000
    console.error(
      `${label}: seeded ${users} users, accounts and sessions in ${seedSecs.toFixed(1)}s ` +
        `(bulk path, ${Math.round(users / Math.max(seedSecs, 1e-9))} users/s)`
    )
    await verify(adapter, data)
    console.error(`${label}: a sample of 64 users reads back through the adapter as stored`)

    const usersBig = BigInt(users)
    const pick = (i) => Number((BigInt(i) * 2654435761n) % usersBig)
    const run = async (op, body) => {
      const r = await timed(concurrency, ops, body)
      console.error(
        `${label}: ${op}: ${Math.round(ops / r.secs)} ops/s, p50 ${r.p50_us} us, p99 ${r.p99_us} us`
      )
      results.push({ op, ...r })
    }

    // Untimed warm-up of the hot path.
    await timed(concurrency, 1_000, async (i) => {
      must("get_session_and_user (warm-up)")(await adapter.getSessionAndUser(data.tokens[pick(i)]))
    })
    await run("get_session_and_user", async (i) => {
      must("get_session_and_user")(await adapter.getSessionAndUser(data.tokens[pick(i)]))
    })
    await run("get_user_by_account", async (i) => {
      const user = await adapter.getUserByAccount({ provider: "github", providerAccountId: `gh-${pick(i)}` })
      must("get_user_by_account")(user)
    })
    await run("update_session", async (i) => {
      const result = await adapter.updateSession({ sessionToken: data.tokens[pick(i)], expires: in30Days() })
      must("update_session")(store.updated(result))
    })
    await run("create_session", async (i) => {
      await adapter.createSession({ sessionToken: sessionToken(), userId: data.userIds[pick(i)], expires: in30Days() })
    })
    const verificationTokens = Array.from({ length: ops }, sessionToken)
    await timed(concurrency, ops, async (i) => {
      await adapter.createVerificationToken({
        identifier: `user${i}@bench.example`,
        token: verificationTokens[i],
        expires: new Date(Date.now() + DAY_MS),
      })
    })
    await run("use_verification_token", async (i) => {
      const used = await adapter.useVerificationToken({ identifier: `user${i}@bench.example`, token: verificationTokens[i] })
      must("use_verification_token")(used)
    })
  } finally {
    await close()
  }

  const peakRssKib = process.resourceUsage().maxRSS
  for (const r of results) {
    console.log(
      JSON.stringify({
        impl: "authjs",
        backend: name,
        variant,
        op: r.op,
        users,
        concurrency,
        ops,
        secs: Math.round(r.secs * 1000) / 1000,
        ops_per_sec: Math.round(ops / r.secs),
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        seed_secs: Math.round(seedSecs * 10) / 10,
        seeding: "bulk",
        adapter: adapterName,
        node: process.version,
        peak_rss_kib: peakRssKib,
      })
    )
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${e?.stack ?? e}`)
    process.exit(1)
  }
)
