// A throwaway OpenID Connect provider for the test suite (panva's oidc-provider).
//
// Usage: node provider.mjs CONFIG.json   (or OIDC_PROVIDER_CONFIG=CONFIG.json node provider.mjs)
//
// CONFIG.json:
//   {
//     "port": 5xxxx, "host": "127.0.0.1", "issuer": "http://127.0.0.1:5xxxx",
//     "clients": [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]}],
//     "accounts": {"alice": {"email": "alice@example.org", "name": "Alice", "tid": "..."}},
//     "options": {"pkce_required": true, "configuration": {...extra provider settings...}}
//   }
//
// Login and consent are this file's own minimal interaction pages: GET /interaction/<uid>
// shows a form (field "account") when a login or an account selection is needed and grants
// consent automatically; POST /interaction/<uid>/login logs the posted account in. The signing key and the cookie
// keys are generated at startup and live only as long as the process. Prints READY <issuer>
// on stdout once listening.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';

import Provider, { interactionPolicy } from 'oidc-provider';

const configPath = process.argv[2] || process.env.OIDC_PROVIDER_CONFIG;
if (!configPath) {
  console.error('usage: node provider.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const host = config.host || '127.0.0.1';
const { port } = config;
const issuer = config.issuer || `http://${host}:${port}`;
const options = config.options || {};

// Claims released per scope. Anything an account carries that is not a standard claim
// (tid, hd, groups, ...) is released with the openid scope so it is always present.
const STANDARD_SCOPES = {
  email: ['email', 'email_verified'],
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
    'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
};
const standardClaims = new Set(Object.values(STANDARD_SCOPES).flat());
const extraClaims = new Set();

// Accounts are keyed by the login name posted on the login form; the OIDC subject is the
// account's "sub" claim when given, the login name otherwise.
const accountsByLogin = new Map();
const accountsBySub = new Map();
for (const [login, rawClaims] of Object.entries(config.accounts || {})) {
  const claims = { ...rawClaims };
  const sub = String(claims.sub ?? login);
  claims.sub = sub;
  for (const name of Object.keys(claims)) {
    if (name !== 'sub' && !standardClaims.has(name)) extraClaims.add(name);
  }
  const account = { login, sub, claims };
  accountsByLogin.set(login, account);
  accountsBySub.set(sub, account);
}

// Google, Entra ID and Okta accept prompt=select_account (the portal sends it); the default
// policy of oidc-provider does not. Requested, it shows the same account form as a login.
function interactionPolicyWithSelectAccount() {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  return policy;
}

function makeSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

const clients = (config.clients || []).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  ...client,
}));

const configuration = {
  clients,
  jwks: { keys: [makeSigningKey()] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
  },
  claims: {
    acr: null,
    auth_time: null,
    sid: null,
    openid: ['sub', ...extraClaims],
    ...STANDARD_SCOPES,
  },
  scopes: ['openid', 'offline_access', ...Object.keys(STANDARD_SCOPES)],
  // Every granted claim goes into the ID token, even when an access token is issued too.
  conformIdTokenClaims: false,
  // PKCE (S256 is the only method oidc-provider knows) is required of every client.
  pkce: {
    required: () => options.pkce_required !== false,
  },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  interactions: {
    policy: interactionPolicyWithSelectAccount(),
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(_ctx, sub) {
    const account = accountsBySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        return { ...account.claims };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>oidc error</title></head><body>
<h1>oops! something went wrong</h1>
<pre id="error">${escapeHtml(JSON.stringify(out))}</pre></body></html>`;
  },
  ...(options.configuration || {}),
};

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const provider = new Provider(issuer, configuration);
// Requests arrive over plain http on the loopback; nothing is proxied.
provider.proxy = false;
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function loginPage(uid, message) {
  const known = [...accountsByLogin.keys()]
    .map((login) => `<li>${escapeHtml(login)}</li>`).join('');
  return `<!DOCTYPE html><html><head><title>Sign-in</title></head><body>
<h1>Sign-in</h1>
${message ? `<p id="message">${escapeHtml(message)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
<input name="account" autofocus><button type="submit">Sign in</button></form>
<ul>${known}</ul></body></html>`;
}

async function grantConsent(details) {
  const { prompt, grantId, session, params } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

async function handleInteraction(req, res, url) {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
  if (!match) return sendHtml(res, 404, 'not found');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== match[1]) return sendHtml(res, 400, 'interaction mismatch');

  if (match[2]) {
    if (req.method !== 'POST') return sendHtml(res, 405, 'method not allowed');
    const form = await readForm(req);
    const account = accountsByLogin.get(form.get('account') || '');
    if (!account) return sendHtml(res, 400, loginPage(details.uid, 'unknown account'));
    // Posting the form both picks the account and logs it in.
    return provider.interactionFinished(req, res, {
      select_account: {},
      login: { accountId: account.sub },
    }, { mergeWithLastSubmission: false });
  }

  if (req.method !== 'GET') return sendHtml(res, 405, 'method not allowed');
  if (['login', 'select_account'].includes(details.prompt.name)) {
    return sendHtml(res, 200, loginPage(details.uid));
  }
  if (details.prompt.name === 'consent') {
    const grantId = await grantConsent(details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  }
  return sendHtml(res, 501, `prompt ${escapeHtml(details.prompt.name)} not implemented`);
}

const providerCallback = provider.callback();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/interaction/')) {
    handleInteraction(req, res, url).catch((err) => {
      console.error('interaction error', err);
      if (!res.headersSent) sendHtml(res, 400, `<pre id="error">${escapeHtml(err.message)}</pre>`);
      else res.end();
    });
    return;
  }
  providerCallback(req, res);
});

function shutdown() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, host, () => {
  process.stdout.write(`READY ${issuer}\n`);
});
