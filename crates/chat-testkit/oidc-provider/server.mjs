// Test-only identity providers, started by the test kit and by `scripts/stack.sh` in CI mode.
//
//   node server.mjs PROVIDER_PORT ROGUE_PORT
//
// * PROVIDER_PORT: a real OpenID Connect provider (panva's oidc-provider) with its development
//   login page: any login name and password sign in; the account's claims are derived from the
//   name (`ann` -> ann@example.com, verified unless the name starts with "unverified").
//   Clients are `chat-test-PORT` (secret `test-client-secret`), whose redirect URI is
//   http://127.0.0.1:PORT/auth/oauth/google/callback (or localhost): each test's user-service
//   gets a client of its own without the provider being restarted.
// * ROGUE_PORT: an "issuer" that signs whatever id_token a test asks for (`mode` on the
//   authorization URL: wrong_audience, expired, wrong_nonce, wrong_issuer, bad_signature), so
//   the refusal of each bad token is tested. It never shows a login page.
//
// Prints "ready" once both listen.

import { randomBytes } from 'node:crypto';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const [providerPort, roguePort] = process.argv.slice(2).map(Number);
if (!providerPort || !roguePort) {
  console.error('usage: node server.mjs PROVIDER_PORT ROGUE_PORT');
  process.exit(2);
}
const CLIENT_SECRET = 'test-client-secret';

function clientFor(id) {
  const match = /^chat-test-(\d+)$/.exec(id ?? '');
  if (!match) return undefined;
  const port = match[1];
  return {
    client_id: id,
    client_secret: CLIENT_SECRET,
    redirect_uris: ['127.0.0.1', 'localhost'].map(
      (host) => `http://${host}:${port}/auth/oauth/google/callback`,
    ),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

// oidc-provider's storage: in memory; clients come from their id.
const store = new Map();
class MemoryAdapter {
  constructor(name) {
    this.name = name;
  }

  key(id) {
    return `${this.name}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expires = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload, expires });
  }

  async find(id) {
    if (this.name === 'Client') return clientFor(id);
    const entry = store.get(this.key(id));
    if (!entry || entry.expires < Date.now()) return undefined;
    return entry.payload;
  }

  async findByUid(uid) {
    for (const [key, entry] of store) {
      if (key.startsWith(`${this.name}:`) && entry.payload.uid === uid) return entry.payload;
    }
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const [key, entry] of store) {
      if (key.startsWith(`${this.name}:`) && entry.payload.userCode === userCode) return entry.payload;
    }
    return undefined;
  }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of store) {
      if (entry.payload.grantId === grantId) store.delete(key);
    }
  }
}

const signingKey = await jose.generateKeyPair('RS256', { extractable: true });
const privateJwk = { ...(await jose.exportJWK(signingKey.privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const issuer = `http://127.0.0.1:${providerPort}`;
const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  jwks: { keys: [privateJwk] },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  // Google puts the email in the id_token; so does this provider.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600,
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: `sub-${id}`,
          email: `${id}@example.com`.toLowerCase(),
          email_verified: !id.startsWith('unverified'),
          name: id,
          preferred_username: id,
        };
      },
    };
  },
});

// The rogue issuer: one key it publishes, one it does not (for bad signatures).
const rogueIssuer = `http://127.0.0.1:${roguePort}`;
const rogueKey = await jose.generateKeyPair('RS256', { extractable: true });
const otherKey = await jose.generateKeyPair('RS256', { extractable: true });
const roguePublic = { ...(await jose.exportJWK(rogueKey.publicKey)), kid: 'rogue-key', alg: 'RS256', use: 'sig' };
const rogueCodes = new Map();

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function rogue(req, res) {
  const url = new URL(req.url, rogueIssuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    return json(res, 200, {
      issuer: rogueIssuer,
      authorization_endpoint: `${rogueIssuer}/authorize`,
      token_endpoint: `${rogueIssuer}/token`,
      jwks_uri: `${rogueIssuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  }
  if (url.pathname === '/jwks') return json(res, 200, { keys: [roguePublic] });
  if (url.pathname === '/authorize') {
    const code = randomBytes(16).toString('hex');
    rogueCodes.set(code, {
      clientId: url.searchParams.get('client_id'),
      nonce: url.searchParams.get('nonce'),
      mode: url.searchParams.get('mode') ?? 'valid',
    });
    const back = new URL(url.searchParams.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state'));
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    const form = await readForm(req);
    const grant = rogueCodes.get(form.get('code'));
    rogueCodes.delete(form.get('code'));
    if (!grant) return json(res, 400, { error: 'invalid_grant' });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      email: 'rogue@example.com',
      email_verified: true,
      nonce: grant.nonce,
    };
    let { clientId: audience } = grant;
    let iss = rogueIssuer;
    let [iat, exp] = [now, now + 300];
    let key = rogueKey.privateKey;
    switch (grant.mode) {
      case 'wrong_audience': audience = 'another-client'; break;
      case 'expired': [iat, exp] = [now - 1200, now - 600]; break;
      case 'wrong_nonce': claims.nonce = 'not-the-nonce-of-this-flow'; break;
      case 'wrong_issuer': iss = 'https://issuer.invalid'; break;
      case 'bad_signature': key = otherKey.privateKey; break;
      default: break;
    }
    const idToken = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'rogue-key' })
      .setIssuer(iss)
      .setSubject('rogue-subject')
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
    return json(res, 200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: idToken });
  }
  return json(res, 404, { error: 'not_found' });
}

let listening = 0;
function ready() {
  listening += 1;
  if (listening === 2) console.log('ready');
}
provider.listen(providerPort, '127.0.0.1', ready);
http.createServer((req, res) => {
  rogue(req, res).catch((error) => json(res, 500, { error: String(error) }));
}).listen(roguePort, '127.0.0.1', ready);
