// Driven by tests/interop_jsforce.rs: jsforce (npm) logs in to the emulator over SOAP with a
// username and password, then runs its normal flows. Prints one JSON object on stdout.
const jsforce = require('jsforce');

async function main() {
  const loginUrl = process.env.SF_LOGIN_URL;
  const version = process.env.SF_API_VERSION;
  const username = process.env.SF_USERNAME;
  const password = process.env.SF_PASSWORD;
  const out = {};

  const wrong = new jsforce.Connection({ loginUrl, version });
  try {
    await wrong.login(username, password + 'x-wrong');
    out.bad_password = { error: null };
  } catch (e) {
    out.bad_password = { error: String(e.message || e) };
  }

  const conn = new jsforce.Connection({ loginUrl, version });
  const info = await conn.login(username, password);
  out.login = {
    user_id: info.id,
    org_id: info.organizationId,
    instance_url: conn.instanceUrl,
    session_prefix: conn.accessToken.slice(0, 15),
  };

  const five = await conn.query('SELECT Id, Name FROM Account ORDER BY Name LIMIT 5');
  out.query = { totalSize: five.totalSize, names: five.records.map((r) => r.Name) };

  const rows = [];
  const all = await new Promise((resolve, reject) => {
    conn
      .query('SELECT Id FROM Contact LIMIT 3000')
      .on('record', (r) => rows.push(r.Id))
      .on('end', function () { resolve(this.totalSize); })
      .on('error', reject)
      .run({ autoFetch: true, maxFetch: 10000 });
  });
  out.auto_fetch = { totalSize: all, rows: rows.length, distinct: new Set(rows).size };

  const created = await conn.sobject('Lead').create({ LastName: 'Jsforce', Company: 'Jsforce Inc' });
  await conn.sobject('Lead').update({ Id: created.id, Company: 'Jsforce Updated' });
  const lead = await conn.sobject('Lead').retrieve(created.id);
  out.write = { success: created.success, company: lead.Company };

  const identity = await conn.identity();
  out.identity = { user_id: identity.user_id, username: identity.username };

  // After logout the session id is dead: reuse it on a fresh connection to prove it.
  const { accessToken, instanceUrl } = conn;
  await conn.logout();
  try {
    const reused = new jsforce.Connection({ instanceUrl, accessToken, version });
    await reused.query('SELECT Id FROM Account LIMIT 1');
    out.after_logout = { error: null };
  } catch (e) {
    out.after_logout = { error: String(e.errorCode || e.name || e.message) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`jsforce flow failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
