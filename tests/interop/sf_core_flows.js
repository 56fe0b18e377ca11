// Driven by tests/interop_jsforce.rs: @salesforce/core (what the sf CLI and @salesforce/mcp use
// to reach orgs) is given an access token for the emulator, saves it to its auth store (in the
// isolated HOME the test gives), then opens the org and queries. Prints one JSON object.
const { AuthInfo, Org } = require('@salesforce/core');

async function main() {
  const instanceUrl = process.env.SF_INSTANCE_URL;
  const accessToken = process.env.SF_ACCESS_TOKEN;
  const auth = await AuthInfo.create({
    accessTokenOptions: { accessToken, instanceUrl, loginUrl: instanceUrl },
  });
  await auth.save();
  await auth.setAlias('emulator');
  const fields = auth.getFields();

  const org = await Org.create({ aliasOrUsername: 'emulator' });
  const info = await org.retrieveOrganizationInformation();
  const conn = org.getConnection();
  const accounts = await conn.query('SELECT Id, Name FROM Account ORDER BY Name LIMIT 3');
  process.stdout.write(
    JSON.stringify({
      username: fields.username,
      org_id: fields.orgId,
      is_dev_hub: fields.isDevHub === true,
      org_name: info.Name,
      organization_type: info.OrganizationType,
      api_version: conn.getApiVersion(),
      accounts: accounts.records.map((r) => r.Name),
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`@salesforce/core flow failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
