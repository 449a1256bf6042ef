// Fails when src/schema.gen.ts is not what `npm run generate` makes from
// ../../openapi.yaml today: regenerate into a temporary file and compare.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committed = "src/schema.gen.ts";
const dir = mkdtempSync(join(tmpdir(), "pleskgate-ts-"));
const fresh = join(dir, "schema.gen.ts");
try {
  execFileSync(process.execPath, ["node_modules/openapi-typescript/bin/cli.js", "../../openapi.yaml", "-o", fresh], { stdio: ["ignore", "ignore", "inherit"] });
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error(`${committed} is stale: run 'npm run generate' in examples/typescript and commit it`);
    process.exit(1);
  }
  console.log(`${committed} is current`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
