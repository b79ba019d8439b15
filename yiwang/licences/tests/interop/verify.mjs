// Verifies licences issued by the platform with @sd-jwt/sd-jwt-vc, an independent implementation.
// Input (stdin, JSON): {"issuers": {iss: {"keys": [jwk...]}}, "status_lists": {uri: token},
//   "cases": [{"name", "credential", "nonce"?}]}
// Output (stdout, JSON): [{"name", "ok", "error"?, "claims"?}]
import { createHash, createPublicKey, verify } from "node:crypto";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

const b64json = (part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
const ed25519 = (jwk, data, sig) =>
  verify(null, Buffer.from(data), createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" }),
    Buffer.from(sig, "base64url"));

function issuerVerifier(data, sig) {
  const [head, body] = data.split(".");
  const header = b64json(head);
  const payload = b64json(body);
  if (header.alg !== "EdDSA") return false;
  // A credential names its issuer; a status list token does not, and is looked up by its kid
  // (key ids are RFC 7638 thumbprints) among the keys of the issuers given.
  const keys = payload.iss ? input.issuers[payload.iss]?.keys ?? [] : Object.values(input.issuers).flatMap((i) => i.keys);
  const key = keys.find((k) => k.kid === header.kid);
  return key ? ed25519(key, data, sig) : false;
}

const sdjwt = new SDJwtVcInstance({
  hasher: (data, alg) => {
    if (alg !== "sha-256") throw new Error(`unsupported hash ${alg}`);
    return new Uint8Array(createHash("sha256").update(typeof data === "string" ? data : Buffer.from(data)).digest());
  },
  verifier: issuerVerifier,
  kbVerifier: (data, sig, payload) => ed25519(payload.cnf.jwk, data, sig),
  statusListFetcher: async (uri) => {
    if (!(uri in input.status_lists)) throw new Error(`no status list ${uri}`);
    return input.status_lists[uri];
  },
});

const results = [];
for (const c of input.cases) {
  try {
    const options = c.nonce ? { keyBindingNonce: c.nonce } : {};
    const result = await sdjwt.verify(c.credential, options);
    const claims = await sdjwt.getClaims(c.credential);
    results.push({ name: c.name, ok: true, claims, key_binding: Boolean(result.kb) });
  } catch (error) {
    results.push({ name: c.name, ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
