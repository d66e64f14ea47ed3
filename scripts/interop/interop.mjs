// Cross-checks auth-jwt against the real packages: tokens made by the Rust
// CLI (`authjs-token`) must decode with @auth/core and next-auth/jwt, and
// tokens made by them must decode with the Rust CLI.
//
//   node interop.mjs /path/to/authjs-token
//
// Prints PASS/FAIL per check; exits 1 when any check fails.
// Run through ../interop.sh, which installs the packages and builds the CLI.

import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { decode as decodeV5, encode as encodeV5 } from "@auth/core/jwt"
import { decode as decodeV4, encode as encodeV4 } from "next-auth/jwt"
import { EncryptJWT } from "jose"
import { hkdf } from "@panva/hkdf"

const cli = process.argv[2]
if (!cli) {
  console.error("usage: node interop.mjs /path/to/authjs-token")
  process.exit(2)
}

const authCorePkg = JSON.parse(readFileSync(new URL("./node_modules/@auth/core/package.json", import.meta.url)))
const nextAuthPkg = JSON.parse(readFileSync(new URL("./node_modules/next-auth/package.json", import.meta.url)))
console.log(`@auth/core ${authCorePkg.version}, next-auth ${nextAuthPkg.version}, node ${process.version}`)

const SECRET = "interop-secret-" + Math.random().toString(36).slice(2)
const OLD = "interop-old-secret"
const SALT = "authjs.session-token"
const SECURE_SALT = "__Secure-authjs.session-token"
const CLAIMS = {
  name: "Zoë Ünïcødé 😀 \"quoted\" \\ </script>",
  email: "zoe@example.com",
  picture: null,
  sub: "user-42",
  roles: ["admin", "user"],
  nested: { a: 1, b: [true, false, null], c: 1.5 },
}

let failures = 0
async function check(name, fn) {
  try {
    await fn()
    console.log(`PASS  ${name}`)
  } catch (e) {
    failures++
    console.log(`FAIL  ${name}: ${e?.message ?? e}`)
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

function sameClaims(got, want) {
  for (const [k, v] of Object.entries(want)) {
    assert(JSON.stringify(got[k]) === JSON.stringify(v), `claim ${k}: got ${JSON.stringify(got[k])}, want ${JSON.stringify(v)}`)
  }
  for (const k of ["iat", "exp", "jti"]) assert(got[k] !== undefined, `missing ${k}`)
}

// The Rust CLI. Returns stdout; throws with stderr on a non-zero exit.
function rust(args, input = "") {
  try {
    return execFileSync(cli, args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] }).trim()
  } catch (e) {
    throw new Error(`authjs-token ${args[0]} exited ${e.status}: ${String(e.stderr).trim()}`)
  }
}

function rustFails(args) {
  try {
    execFileSync(cli, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] })
    return null
  } catch (e) {
    assert(e.status === 1, `expected exit 1, got ${e.status}`)
    return String(e.stderr).trim()
  }
}

const secretArgs = (secrets) => secrets.flatMap((s) => ["--secret", s])

// ---- Rust encodes, Node decodes ------------------------------------------

for (const salt of [SALT, SECURE_SALT]) {
  await check(`Rust v5 encode -> @auth/core decode (salt ${salt})`, async () => {
    const token = rust(["encode", ...secretArgs([SECRET]), "--salt", salt], JSON.stringify(CLAIMS))
    const claims = await decodeV5({ token, secret: SECRET, salt })
    sameClaims(claims, CLAIMS)
    assert(claims.exp - claims.iat === 30 * 24 * 60 * 60, "default max age is 30 days")
  })
}

await check("Rust v5 encode --max-age 120 -> @auth/core decode, exp = iat + 120", async () => {
  const token = rust(["encode", "--secret", SECRET, "--salt", SALT, "--max-age", "120"], JSON.stringify(CLAIMS))
  const claims = await decodeV5({ token, secret: SECRET, salt: SALT })
  assert(claims.exp - claims.iat === 120, `exp - iat = ${claims.exp - claims.iat}`)
})

await check("Rust v5 encode with [new, old] -> @auth/core decodes with [new, old] and [old, new], not [old]", async () => {
  const token = rust(["encode", ...secretArgs([SECRET, OLD]), "--salt", SALT], JSON.stringify(CLAIMS))
  sameClaims(await decodeV5({ token, secret: [SECRET, OLD], salt: SALT }), CLAIMS)
  sameClaims(await decodeV5({ token, secret: [OLD, SECRET], salt: SALT }), CLAIMS)
  let rejected = false
  try {
    await decodeV5({ token, secret: [OLD], salt: SALT })
  } catch {
    rejected = true
  }
  assert(rejected, "decoded with the old secret only")
})

await check("Rust v5 token for one cookie name is rejected by @auth/core under the other", async () => {
  const token = rust(["encode", "--secret", SECRET, "--salt", SALT], JSON.stringify(CLAIMS))
  let rejected = false
  try {
    await decodeV5({ token, secret: SECRET, salt: SECURE_SALT })
  } catch {
    rejected = true
  }
  assert(rejected, "decoded with the wrong salt")
})

await check("Rust v5 tampered token is rejected by @auth/core and by Rust", async () => {
  const token = rust(["encode", "--secret", SECRET, "--salt", SALT], JSON.stringify(CLAIMS))
  const parts = token.split(".")
  const ct = parts[3]
  parts[3] = ct.slice(0, 5) + (ct[5] === "A" ? "B" : "A") + ct.slice(6)
  const tampered = parts.join(".")
  let rejected = false
  try {
    await decodeV5({ token: tampered, secret: SECRET, salt: SALT })
  } catch {
    rejected = true
  }
  assert(rejected, "@auth/core accepted a tampered token")
  const err = rustFails(["decode", "--secret", SECRET, "--salt", SALT, tampered])
  assert(err !== null && /decryption failed/.test(err), `Rust: ${err}`)
})

await check("Rust v5 expired token (--now in the past) is rejected by @auth/core", async () => {
  const token = rust(["encode", "--secret", SECRET, "--salt", SALT, "--max-age", "60", "--now", "1000000000"], JSON.stringify(CLAIMS))
  let error = null
  try {
    await decodeV5({ token, secret: SECRET, salt: SALT })
  } catch (e) {
    error = e
  }
  assert(error && /exp/.test(error.message), `expected an exp failure, got ${error?.message}`)
})

await check("Rust v5 large token (≈9 kB, chunk-sized) -> @auth/core decode", async () => {
  const big = { ...CLAIMS, blob: "x".repeat(6000) }
  const token = rust(["encode", "--secret", SECRET, "--salt", SALT], JSON.stringify(big))
  assert(token.length > 2 * 3936, `token only ${token.length} chars`)
  sameClaims(await decodeV5({ token, secret: SECRET, salt: SALT }), big)
})

await check("Rust v4 encode -> next-auth/jwt (4.24.15) decode", async () => {
  const token = rust(["encode", "--secret", SECRET, "--salt", "", "--v4"], JSON.stringify(CLAIMS))
  const claims = await decodeV4({ token, secret: SECRET })
  sameClaims(claims, CLAIMS)
})

await check("Rust v4 encode (--v4 without --salt) -> next-auth/jwt decode", async () => {
  const token = rust(["encode", "--secret", SECRET, "--v4"], JSON.stringify(CLAIMS))
  sameClaims(await decodeV4({ token, secret: SECRET }), CLAIMS)
})

// ---- Node encodes, Rust decodes ------------------------------------------

for (const salt of [SALT, SECURE_SALT]) {
  await check(`@auth/core encode -> Rust v5 decode (salt ${salt})`, async () => {
    const token = await encodeV5({ token: CLAIMS, secret: SECRET, salt })
    const claims = JSON.parse(rust(["decode", "--secret", SECRET, "--salt", salt, token]))
    sameClaims(claims, CLAIMS)
  })
}

await check("@auth/core encode with [old] -> Rust decodes with [new, old] (kid picks old)", async () => {
  const token = await encodeV5({ token: CLAIMS, secret: [OLD], salt: SALT })
  sameClaims(JSON.parse(rust(["decode", ...secretArgs([SECRET, OLD]), "--salt", SALT, token])), CLAIMS)
  const err = rustFails(["decode", "--secret", SECRET, "--salt", SALT, token])
  assert(err !== null && /no configured secret/.test(err), `Rust with [new] only: ${err}`)
})

await check("@auth/core encode (maxAge 1, aged 20 s) -> Rust decode reports expired", async () => {
  const token = await encodeV5({ token: CLAIMS, secret: SECRET, salt: SALT, maxAge: 1 })
  const now = Math.floor(Date.now() / 1000) + 20
  const err = rustFails(["decode", "--secret", SECRET, "--salt", SALT, "--now", String(now), token])
  assert(err !== null && /expired/.test(err), `Rust: ${err}`)
})

await check("jose dir+A256GCM (no kid, Auth.js key) -> @auth/core and Rust decode", async () => {
  const key = await hkdf("sha256", SECRET, SALT, `Auth.js Generated Encryption Key (${SALT})`, 32)
  const now = Math.floor(Date.now() / 1000)
  const token = await new EncryptJWT(CLAIMS)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setJti("gcm")
    .encrypt(key)
  sameClaims(await decodeV5({ token, secret: SECRET, salt: SALT }), CLAIMS)
  sameClaims(JSON.parse(rust(["decode", "--secret", SECRET, "--salt", SALT, token])), CLAIMS)
})

await check("next-auth/jwt (4.24.15) encode -> Rust v4 decode", async () => {
  const token = await encodeV4({ token: CLAIMS, secret: SECRET })
  sameClaims(JSON.parse(rust(["decode", "--secret", SECRET, "--salt", "", "--v4", token])), CLAIMS)
})

await check("next-auth/jwt token is rejected by Rust v5 (as by @auth/core)", async () => {
  const token = await encodeV4({ token: CLAIMS, secret: SECRET })
  assert(rustFails(["decode", "--secret", SECRET, "--salt", "next-auth.session-token", token]) !== null, "accepted")
})

// ---- CSRF ------------------------------------------------------------------

// Auth.js: createHash(`${token}${options.secret}`), an array joined with ",".
const authjsHash = (token, secret) => createHash("sha256").update(`${token}${secret}`).digest("hex")

await check("Rust csrf cookie verifies with Auth.js's hash (one secret)", async () => {
  const value = rust(["csrf", "--secret", SECRET])
  const [token, hash] = value.split("|")
  assert(/^[0-9a-f]{64}$/.test(token), `token ${token}`)
  assert(hash === authjsHash(token, SECRET), "hash differs")
})

await check("Auth.js csrf cookie (two secrets, joined) verifies in Rust", async () => {
  const token = "c".repeat(64)
  const secrets = [SECRET, OLD]
  const value = `${token}|${authjsHash(token, secrets)}`
  rust(["csrf", ...secretArgs(secrets), "--verify", value])
  rust(["csrf", ...secretArgs(secrets), "--verify", encodeURIComponent(value)])
  assert(rustFails(["csrf", "--secret", SECRET, "--verify", value]) !== null, "verified with one secret")
})

console.log(failures === 0 ? "\nall interop checks passed" : `\n${failures} interop check(s) FAILED`)
process.exit(failures === 0 ? 0 : 1)
