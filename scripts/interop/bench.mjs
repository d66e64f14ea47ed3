// @auth/core's decode/encode per second, to compare with `cargo bench -p auth-jwt`
// (same token: the fixture's real encode() output, same secret and salt).
//
//   node bench.mjs     (after `npm install` here, or via ../interop.sh --bench)

import { readFileSync } from "node:fs"
import { decode, encode } from "@auth/core/jwt"

const fixture = JSON.parse(readFileSync(new URL("../../auth-jwt/tests/fixtures/authjs-tokens.json", import.meta.url)))
const secret = fixture.secret
const salt = "authjs.session-token"
const token = fixture.v5_real_encode.token
const claims = { name: "Ada Lovelace", email: "ada@example.com", picture: null, sub: "user-123" }

async function measure(name, op) {
  const warm = performance.now()
  while (performance.now() - warm < 500) await op()
  let n = 0
  const start = performance.now()
  while (performance.now() - start < 3000) {
    for (let i = 0; i < 100; i++) await op()
    n += 100
  }
  const secs = (performance.now() - start) / 1000
  console.log(`${name.padEnd(44)} ${(n / secs).toFixed(0).padStart(12)} ops/s ${((secs * 1e6) / n).toFixed(2).padStart(9)} µs/op`)
}

console.log(`@auth/core, node ${process.version}, ${token.length} bytes token`)
await measure("decode v5 A256CBC-HS512", async () => {
  const c = await decode({ token, secret, salt })
  if (c.sub !== "user-123") throw new Error("bad decode")
})
await measure("decode v5, 3 secrets, kid matches the 3rd", async () => {
  await decode({ token, secret: ["newest", "newer", secret], salt })
})
await measure("encode v5 A256CBC-HS512", async () => {
  await encode({ token: claims, secret, salt })
})
