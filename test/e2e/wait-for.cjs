// Polls `fn` until it returns something truthy; shared by the code-server and test-electron suites.
async function waitFor(fn, what, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
module.exports = { waitFor };
