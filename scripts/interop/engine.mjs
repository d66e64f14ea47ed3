// Cross-checks auth-engine's database sessions with the real @auth/core and
// the official Kysely adapter on one PostgreSQL database and one secret.
//
//   node engine.mjs to-node  RUST_ORIGIN DATABASE_URL SECRET COOKIE EMAIL
//       @auth/core's GET /session, given the session cookie the Rust engine
//       set, must return the Rust-signed-in user.
//   node engine.mjs from-node RUST_ORIGIN DATABASE_URL SECRET EMAIL
//       signs EMAIL in through @auth/core's email flow (csrf, POST signin,
//       the link) and prints the session cookie @auth/core set.
import { Auth } from "@auth/core"
import { KyselyAdapter } from "@auth/kysely-adapter"
import { Kysely, PostgresDialect } from "kysely"
import pg from "pg"

const [mode, origin, databaseUrl, secret, ...rest] = process.argv.slice(2)
const pool = new pg.Pool({ connectionString: databaseUrl })
const db = new Kysely({ dialect: new PostgresDialect({ pool }) })
let lastLink = null
const config = {
  adapter: KyselyAdapter(db),
  secret,
  trustHost: true,
  basePath: "/api/auth",
  providers: [
    {
      id: "email",
      type: "email",
      name: "Email",
      maxAge: 24 * 60 * 60,
      sendVerificationRequest: async ({ url }) => {
        lastLink = url
      },
    },
  ],
}

function cookiesOf(response) {
  return response.headers.getSetCookie().map((c) => c.split(";")[0])
}

async function main() {
  if (mode === "to-node") {
    const [cookie, email] = rest
    const r = await Auth(new Request(`${origin}/api/auth/session`, { headers: { cookie } }), config)
    const body = await r.json()
    if (body?.user?.email !== email) throw new Error(`@auth/core /session answered ${JSON.stringify(body)}`)
    console.log(`@auth/core returned ${body.user.email}, expires ${body.expires}`)
  } else if (mode === "from-node") {
    const [email] = rest
    const jar = new Map()
    const send = async (url, init = {}) => {
      const headers = new Headers(init.headers)
      headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "))
      const r = await Auth(new Request(url, { ...init, headers }), config)
      for (const c of cookiesOf(r)) {
        const [k, ...v] = c.split("=")
        jar.set(k, v.join("="))
      }
      return r
    }
    const { csrfToken } = await (await send(`${origin}/api/auth/csrf`)).json()
    const form = new URLSearchParams({ email, csrfToken, callbackUrl: origin })
    const r = await send(`${origin}/api/auth/signin/email`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    })
    if (r.status !== 302 || !lastLink) throw new Error(`signin answered ${r.status}`)
    const back = await send(lastLink)
    if (back.status !== 302) throw new Error(`the link answered ${back.status}`)
    const token = jar.get("authjs.session-token")
    if (!token) throw new Error("@auth/core set no session cookie")
    console.log(`authjs.session-token=${token}`)
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
}

main()
  .then(() => pool.end())
  .catch(async (e) => {
    console.error(`FAIL  ${e.message}`)
    await pool.end()
    process.exit(1)
  })
