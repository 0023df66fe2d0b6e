// A real OpenID provider for the single sign-on tests: the certified npm package oidc-provider,
// with test users, one public client that must use PKCE (S256), and ID tokens signed with ES256
// (or RS256 / EdDSA with --alg). Listens on 127.0.0.1 on a free port and prints
//   oidc-provider listening on http://127.0.0.1:PORT
//   issuer http://127.0.0.1:PORT
//
//   node idp.mjs --client-id forecast --redirect-uri http://127.0.0.1:8080/auth/oidc/callback \
//                --users users.json [--alg ES256|RS256|EdDSA] [--port 0]
//
// users.json: [{"username": "anna", "password": "...", "claims": {"preferred_username": "cw1",
// "name": "Anna"}}, ...]. The sign-in page checks the password; every claim of the user goes
// into the ID token (conformIdTokenClaims off), so the relying party needs no userinfo call.
import { generateKeyPairSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    'client-id': { type: 'string', default: 'forecast' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    users: { type: 'string' },
    alg: { type: 'string', default: 'ES256' },
    port: { type: 'string', default: '0' },
  },
});
if (!args.users) throw new Error('--users FILE is required');
const users = JSON.parse(readFileSync(args.users, 'utf8'));

function signingKey(alg) {
  const kid = randomUUID();
  const options = {
    ES256: ['ec', { namedCurve: 'P-256' }],
    RS256: ['rsa', { modulusLength: 2048 }],
    EdDSA: ['ed25519', {}],
  }[alg];
  if (!options) throw new Error(`--alg: one of ES256, RS256, EdDSA, not ${alg}`);
  const { privateKey } = generateKeyPairSync(...options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sameText(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

function loginPage(uid, problem) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      token_endpoint_auth_method: 'none', // a public client: PKCE is its proof (required below)
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: args.alg,
    },
  ],
  jwks: { keys: [signingKey(args.alg)] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
  async findAccount(ctx, sub) {
    const user = users.find((u) => u.username === sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...user.claims }) };
  },
  // First-party test client: consent is implied, as at a municipality's own provider.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile');
    await grant.save();
    return grant;
  },
});

// The sign-in page (the provider's own interactions are development-only).
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  ctx.set('Cache-Control', 'no-store');
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid);
    return undefined;
  }
  if (ctx.method === 'POST' && match[2]) {
    const form = await readForm(ctx.req);
    const user = users.find((u) => u.username === form.get('username'));
    if (!user || !sameText(user.password, form.get('password') ?? '')) {
      ctx.type = 'html';
      ctx.status = 401;
      ctx.body = loginPage(details.uid, 'Wrong username or password.');
      return undefined;
    }
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
    return undefined;
  }
  return next();
});

server.on('request', provider.callback());
process.stdout.write(`oidc-provider listening on ${issuer}\nissuer ${issuer}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
