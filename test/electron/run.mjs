// The extension's tests in a desktop VS Code via @vscode/test-electron, for contributors with
// internet access (it downloads VS Code on first use). CI, offline, runs test/e2e in code-server.
//   npm run test:electron
import { join } from "node:path";
import { runTests } from "@vscode/test-electron";
import { makeWorkspace, ROOT } from "../e2e/harness.mjs";

const ws = await makeWorkspace();
try {
  await runTests({
    extensionDevelopmentPath: join(ROOT, "client"),
    extensionTestsPath: join(ROOT, "test", "electron", "suite.cjs"),
    launchArgs: [ws.ws, "--disable-extensions", "--skip-welcome", "--skip-release-notes"],
    extensionTestsEnv: { XRAYGPT_TEST_WORKSPACE: ws.ws },
  });
} finally {
  ws.cleanup();
}
