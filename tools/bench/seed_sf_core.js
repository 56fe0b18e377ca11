// Seeds the @salesforce/core auth store (in the isolated HOME the benchmark gives) with an
// access token for the emulator under the alias `bench`, the way `sf org login access-token`
// does: @salesforce/mcp reads orgs only from that store. Needs NODE_PATH to reach
// @salesforce/core (installed with @salesforce/mcp).
const { AuthInfo } = require('@salesforce/core');

async function main() {
  const instanceUrl = process.env.SF_BENCH_INSTANCE_URL;
  const accessToken = process.env.SF_BENCH_ACCESS_TOKEN;
  if (!instanceUrl || !accessToken) {
    throw new Error('set SF_BENCH_INSTANCE_URL and SF_BENCH_ACCESS_TOKEN');
  }
  const auth = await AuthInfo.create({
    accessTokenOptions: { accessToken, instanceUrl, loginUrl: instanceUrl },
  });
  await auth.save();
  await auth.setAlias('bench');
  process.stdout.write(`${auth.getUsername()}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e && e.stack) || e}\n`);
  process.exit(1);
});
