// The official Auth.js adapters that bench.mjs runs, one backend each: how to
// make a fresh store in the adapter's own schema, the adapter on a pool of 16
// (where the driver pools), a bulk path for seeding that writes what the
// adapter's own calls would write, and how to remove the store afterwards.
//
// A backend's `open({ url, variant, tag })` returns
//   adapter          the official adapter
//   seed(records)    stores a batch of dataset users (see bench.mjs) in bulk
//                    and returns their user ids, in the batch's order
//   updated(result)  whether updateSession's result says the session existed
//   close()          drops the store and closes the connections
import { readFileSync } from "node:fs"
import { randomUUID } from "node:crypto"

const here = new URL(".", import.meta.url)

/** The version of an installed package, from its package.json. */
export function installedVersion(name) {
  const manifest = new URL(`node_modules/${name}/package.json`, here)
  return JSON.parse(readFileSync(manifest, "utf8")).version
}

// ---------------------------------------------------------------- PostgreSQL
// @auth/pg-adapter on a pg Pool of 16, in a fresh schema (search_path).
async function openPostgres({ url, variant, tag }) {
  const { default: pg } = await import("pg")
  const { default: PostgresAdapter } = await import("@auth/pg-adapter")
  const schema = `authjs_bench_${tag}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  let pool
  const close = async () => {
    await pool?.end().catch(() => {})
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  }
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`)
    // The schema @auth/pg-adapter ships, as adapter-postgres's tests keep it
    // (verbatim, with psql meta-commands such as `\set` left out).
    const shipped = readFileSync(
      new URL("../../adapter-postgres/tests/fixtures/pg-adapter-schema.sql", here),
      "utf8",
    )
      .split("\n")
      .filter((line) => !line.startsWith("\\"))
      .join("\n")
    const ddl = [shipped]
    if (variant === "indexed") ddl.push(readFileSync(new URL("schema/pg-indexed.sql", here), "utf8"))
    await admin.query(`SET search_path TO "${schema}"`)
    for (const sql of ddl) await admin.query(sql)
    await admin.query("RESET search_path")
    pool = new pg.Pool({ connectionString: url, max: 16, options: `-c search_path=${schema}` })
  } catch (e) {
    await close().catch(() => {})
    throw e
  }

  // One transaction per batch: INSERT ... SELECT FROM unnest, as the adapter's
  // createUser, linkAccount and createSession would store each row.
  async function seed(records) {
    const client = await pool.connect()
    try {
      await client.query("BEGIN")
      const users = await client.query(
        `INSERT INTO users (name, email, "emailVerified")
         SELECT name, email, NULL FROM unnest($1::text[], $2::text[]) AS t(name, email)
         RETURNING id, email`,
        [records.map((r) => r.user.name), records.map((r) => r.user.email)]
      )
      const idByEmail = new Map(users.rows.map((row) => [row.email, row.id]))
      const ids = records.map((r) => idByEmail.get(r.user.email))
      const a = records.map((r) => r.account)
      await client.query(
        `INSERT INTO accounts ("userId", type, provider, "providerAccountId", access_token, token_type, scope)
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
        [
          ids,
          a.map((x) => x.type),
          a.map((x) => x.provider),
          a.map((x) => x.providerAccountId),
          a.map((x) => x.access_token),
          a.map((x) => x.token_type),
          a.map((x) => x.scope),
        ]
      )
      await client.query(
        `INSERT INTO sessions ("userId", expires, "sessionToken")
         SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[])`,
        [
          ids,
          records.map((r) => r.session.expires.toISOString()),
          records.map((r) => r.session.sessionToken),
        ]
      )
      await client.query("COMMIT")
      return ids
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {})
      throw e
    } finally {
      client.release()
    }
  }

  return {
    adapter: PostgresAdapter(pool),
    seed,
    // pg-adapter's updateSession returns the (absent) rows of an UPDATE
    // without RETURNING: `undefined` when the session exists, `null` when not.
    updated: (result) => result !== null,
    close,
  }
}

// ------------------------------------------------------------ MySQL/MariaDB
// @auth/kysely-adapter on Kysely's MysqlDialect over a mysql2 pool of 16, in a
// fresh database.
async function openMysql({ url, variant, tag }) {
  const mysql = await import("mysql2")
  const { Kysely, MysqlDialect } = await import("kysely")
  const { KyselyAdapter } = await import("@auth/kysely-adapter")
  const schema = await import("./schema/kysely-mysql.mjs")
  const database = `authjs_bench_${tag}`
  const admin = mysql.createConnection({ uri: url }).promise()
  let pool, db
  const close = async () => {
    await db?.destroy().catch(() => {})
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``)
    await admin.end()
  }
  try {
    await admin.query(`CREATE DATABASE \`${database}\``)
    const poolUrl = new URL(url)
    poolUrl.pathname = `/${database}`
    pool = mysql.createPool({ uri: poolUrl.toString(), connectionLimit: 16 })
    db = new Kysely({ dialect: new MysqlDialect({ pool }) })
    await schema.up(db)
    if (variant === "indexed") await schema.indexed(db)
  } catch (e) {
    await close().catch(() => {})
    throw e
  }

  // Multi-row INSERTs in one transaction per batch; ids are random UUIDs, as
  // the adapter's createUser makes them.
  async function seed(records) {
    const conn = await pool.promise().getConnection()
    try {
      await conn.beginTransaction()
      const ids = records.map(() => randomUUID())
      await conn.query("INSERT INTO `User` (id, name, email, emailVerified) VALUES ?", [
        records.map((r, k) => [ids[k], r.user.name, r.user.email, null]),
      ])
      await conn.query(
        "INSERT INTO `Account` (userId, type, provider, providerAccountId, access_token, token_type, scope) VALUES ?",
        [
          records.map(({ account: a }, k) => [
            ids[k],
            a.type,
            a.provider,
            a.providerAccountId,
            a.access_token,
            a.token_type,
            a.scope,
          ]),
        ]
      )
      await conn.query("INSERT INTO `Session` (userId, sessionToken, expires) VALUES ?", [
        records.map((r, k) => [ids[k], r.session.sessionToken, r.session.expires]),
      ])
      await conn.commit()
      return ids
    } catch (e) {
      await conn.rollback().catch(() => {})
      throw e
    } finally {
      conn.release()
    }
  }

  return {
    adapter: KyselyAdapter(db),
    seed,
    // Without RETURNING the adapter UPDATEs, then SELECTs the session back
    // (executeTakeFirstOrThrow: it throws when there is none).
    updated: (result) => result?.sessionToken !== undefined,
    close,
  }
}

// ------------------------------------------------------------------ MongoDB
// @auth/mongodb-adapter on the mongodb driver (maxPoolSize 16), in a fresh
// database. The adapter creates no index; `indexed` adds the ones its
// lookups need.
async function openMongodb({ url, variant, tag }) {
  const { MongoClient, ObjectId } = await import("mongodb")
  const { MongoDBAdapter } = await import("@auth/mongodb-adapter")
  const databaseName = `authjs_bench_${tag}`
  const client = new MongoClient(url, { maxPoolSize: 16 })
  await client.connect()
  const mdb = client.db(databaseName)
  const close = async () => {
    try {
      await mdb.dropDatabase()
    } finally {
      await client.close()
    }
  }
  try {
    if (variant === "indexed") {
      await mdb.collection("users").createIndex({ email: 1 }, { unique: true })
      await mdb
        .collection("accounts")
        .createIndex({ provider: 1, providerAccountId: 1 }, { unique: true })
      await mdb.collection("sessions").createIndex({ sessionToken: 1 }, { unique: true })
      await mdb
        .collection("verification_tokens")
        .createIndex({ identifier: 1, token: 1 }, { unique: true })
    }
  } catch (e) {
    await close().catch(() => {})
    throw e
  }

  // insertMany per collection and batch, documents as the adapter's `to()`
  // makes them: an ObjectId _id, userId as an ObjectId.
  async function seed(records) {
    const ids = records.map(() => new ObjectId())
    await mdb.collection("users").insertMany(
      records.map((r, k) => ({ _id: ids[k], ...r.user })),
      { ordered: false }
    )
    await mdb.collection("accounts").insertMany(
      records.map((r, k) => ({ _id: new ObjectId(), ...r.account, userId: ids[k] })),
      { ordered: false }
    )
    await mdb.collection("sessions").insertMany(
      records.map((r, k) => ({ _id: new ObjectId(), ...r.session, userId: ids[k] })),
      { ordered: false }
    )
    return ids.map((id) => id.toHexString())
  }

  return {
    adapter: MongoDBAdapter(client, { databaseName }),
    seed,
    // findOneAndUpdate finds nothing -> the adapter returns from(null), `{}`.
    updated: (result) => result?.sessionToken !== undefined,
    close,
  }
}

// -------------------------------------------------------------------- Redis
// @auth/unstorage-adapter on unstorage's redis driver (one ioredis
// connection: ioredis pipelines, it does not pool), under a fresh base
// prefix whose keys are deleted afterwards.
async function openRedis({ url, tag }) {
  const { default: Redis } = await import("ioredis")
  const { createStorage } = await import("unstorage")
  const { default: redisDriver } = await import("unstorage/drivers/redis")
  const { UnstorageAdapter } = await import("@auth/unstorage-adapter")
  const base = `authjs-bench-${tag}`
  const storage = createStorage({ driver: redisDriver({ url, base }) })
  const raw = new Redis(url)
  // unstorage's redis driver stores key K at `${base}:K`, string values as
  // they are; the adapter stores objects as JSON strings.
  const key = (k) => `${base}:${k}`

  // One pipeline per batch, writing the keys that createUser (setUser),
  // linkAccount (setAccount) and createSession (setSession) write.
  async function seed(records) {
    const ids = records.map(() => randomUUID())
    const pipeline = raw.pipeline()
    records.forEach((r, k) => {
      const userId = ids[k]
      const user = { ...r.user, id: userId }
      pipeline.set(key(`user:${userId}`), JSON.stringify(user))
      pipeline.set(key(`user:email:${user.email}`), userId)
      const accountId = `${r.account.provider}:${r.account.providerAccountId}`
      const account = { ...r.account, userId, id: accountId }
      pipeline.set(key(`user:account:${accountId}`), JSON.stringify(account))
      pipeline.set(key(`user:account:by-user-id:${userId}`), `user:account:${accountId}`)
      const session = { ...r.session, userId }
      pipeline.set(key(`user:session:${session.sessionToken}`), JSON.stringify(session))
      pipeline.set(key(`user:session:by-user-id:${userId}`), `user:session:${session.sessionToken}`)
    })
    for (const [err] of await pipeline.exec()) if (err) throw err
    return ids
  }

  async function close() {
    try {
      let cursor = "0"
      do {
        const [next, keys] = await raw.scan(cursor, "MATCH", `${base}:*`, "COUNT", 1000)
        cursor = next
        if (keys.length) await raw.unlink(...keys)
      } while (cursor !== "0")
    } finally {
      await storage.dispose().catch(() => {})
      raw.disconnect()
    }
  }

  return {
    adapter: UnstorageAdapter(storage),
    seed,
    updated: (result) => result !== null,
    close,
  }
}

export const backends = {
  postgres: {
    urlEnv: "POSTGRES_URL",
    variants: ["as-shipped", "indexed"],
    adapterPackage: "@auth/pg-adapter",
    open: openPostgres,
  },
  mysql: {
    urlEnv: "MYSQL_URL",
    variants: ["as-shipped", "indexed"],
    adapterPackage: "@auth/kysely-adapter",
    open: openMysql,
  },
  mongodb: {
    urlEnv: "MONGODB_URL",
    variants: ["as-shipped", "indexed"],
    adapterPackage: "@auth/mongodb-adapter",
    open: openMongodb,
  },
  redis: {
    urlEnv: "REDIS_URL",
    variants: ["as-shipped"],
    adapterPackage: "@auth/unstorage-adapter",
    open: openRedis,
  },
}
