// The schema that @auth/kysely-adapter 1.11.2 ships, on MySQL/MariaDB.
//
// The adapter's docs (docs/pages/getting-started/adapters/kysely.mdx of
// nextauthjs/next-auth, commit a1a16a5a7780488c7449feece410033f445d0b31) ship
// one Kysely migration, written for PostgreSQL (uuid, timestamptz,
// gen_random_uuid()). `up` below is that migration, table for table and index
// for index, with the MySQL types and defaults of the adapter's own test suite
// (packages/adapter-kysely/test/index.test.ts): varchar(36) ids defaulting to
// UUID(), DATETIME(3) for timestamptz, varchar(255) for text, and the foreign
// keys as table constraints (MySQL ignores an inline REFERENCES).
//
// What it has: primary keys, a unique User.email, a unique
// Session.sessionToken, a unique VerificationToken.token, and indexes on
// Account.userId and Session.userId. What it lacks: any index on
// Account(provider, providerAccountId), which getUserByAccount filters on;
// `indexed` adds the one a user would.
import { sql } from "kysely"

const id = (col) => col.primaryKey().defaultTo(sql`(UUID())`)
const text = "varchar(255)"
const datetime = sql`DATETIME(3)`

/** The shipped migration (`up` of db/migrations/001_create_db.ts). */
export async function up(db) {
  await db.schema
    .createTable("User")
    .addColumn("id", "varchar(36)", id)
    .addColumn("name", text)
    .addColumn("email", text, (col) => col.unique().notNull())
    .addColumn("emailVerified", datetime)
    .addColumn("image", text)
    .execute()

  await db.schema
    .createTable("Account")
    .addColumn("id", "varchar(36)", id)
    .addColumn("userId", "varchar(36)", (col) => col.notNull())
    .addColumn("type", text, (col) => col.notNull())
    .addColumn("provider", text, (col) => col.notNull())
    .addColumn("providerAccountId", text, (col) => col.notNull())
    .addColumn("refresh_token", text)
    .addColumn("access_token", text)
    .addColumn("expires_at", "bigint")
    .addColumn("token_type", text)
    .addColumn("scope", text)
    .addColumn("id_token", text)
    .addColumn("session_state", text)
    .addForeignKeyConstraint("Account_userId_fk", ["userId"], "User", ["id"], (cb) =>
      cb.onDelete("cascade")
    )
    .execute()

  await db.schema
    .createTable("Session")
    .addColumn("id", "varchar(36)", id)
    .addColumn("userId", "varchar(36)", (col) => col.notNull())
    .addColumn("sessionToken", text, (col) => col.notNull().unique())
    .addColumn("expires", datetime, (col) => col.notNull())
    .addForeignKeyConstraint("Session_userId_fk", ["userId"], "User", ["id"], (cb) =>
      cb.onDelete("cascade")
    )
    .execute()

  await db.schema
    .createTable("VerificationToken")
    .addColumn("identifier", text, (col) => col.notNull())
    .addColumn("token", text, (col) => col.notNull().unique())
    .addColumn("expires", datetime, (col) => col.notNull())
    .execute()

  await db.schema.createIndex("Account_userId_index").on("Account").column("userId").execute()
  await db.schema.createIndex("Session_userId_index").on("Session").column("userId").execute()
}

/** The `indexed` variant: what a user would add for getUserByAccount. */
export async function indexed(db) {
  await db.schema
    .createIndex("Account_provider_providerAccountId_key")
    .unique()
    .on("Account")
    .columns(["provider", "providerAccountId"])
    .execute()
}
