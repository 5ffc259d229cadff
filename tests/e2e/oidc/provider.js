// A real OpenID provider (oidc-provider) on 127.0.0.1 for the staff sign-in browser tests.
//
// One client (the portal under test) and four people. Its own small sign-in page checks a
// username and password, as a company's provider does; the grant is given at once, as for a
// company's own application (no consent page). Started by tests/e2e/identity_provider.py with:
//   OIDC_PORT          the port to listen on
//   OIDC_REDIRECT_URI  the portal's http://127.0.0.1:<port>/oauth2callback
//   OIDC_CLIENT_SECRET the portal's client secret, new for each run
// Everything here is for tests on localhost only: the cookie key and the password are made up.

import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const redirectUri = process.env.OIDC_REDIRECT_URI;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
if (!port || !redirectUri || !clientSecret) {
  console.error('OIDC_PORT, OIDC_REDIRECT_URI and OIDC_CLIENT_SECRET are required');
  process.exit(2);
}

const CLIENT_ID = 'resultsdesk-tests';
const PASSWORD = 'Provider-Password-1!';

// username -> the claims the provider vouches for. The emails match the portal's demo people.
const PEOPLE = {
  'sam.sutton': { sub: 'idp-sam', name: 'Sam Sutton', email: 'support@demo.test', email_verified: true },
  'priya.prakash': { sub: 'idp-priya', name: 'Priya Prakash', email: 'privacy@demo.test', email_verified: false },
  'stranger': { sub: 'idp-stranger', name: 'Sol Stranger', email: 'stranger@elsewhere.test', email_verified: true },
  'erin.ellis': { sub: 'idp-erin', name: 'Erin Ellis', email: 'employer@demo.test', email_verified: true },
};
const BY_SUB = Object.fromEntries(Object.values(PEOPLE).map((person) => [person.sub, person]));

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  cookies: { keys: ['made-up-cookie-key-for-local-tests'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The claims go into the ID token itself: that is what Streamlit keeps in st.user.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const person = BY_SUB[sub];
    return person && { accountId: sub, claims: async () => ({ ...person }) };
  },
  // The portal is the company's own application: its grant needs no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(uid, message) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Company sign-in</title></head>
<body><main><h1>Company sign-in</h1>
${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid || details.prompt.name !== 'login') {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('Unexpected step.');
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(signInPage(uid));
    return;
  }
  const form = await readForm(req);
  const person = PEOPLE[form.get('username') || ''];
  if (!person || form.get('password') !== PASSWORD) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(signInPage(uid, 'Wrong username or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: person.sub } },
    { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(req.url.split('?')[0]);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1]).catch((error) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('Sign-in could not continue.');
  });
});
server.listen(port, '127.0.0.1', () => console.log(`identity provider ready at http://127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
