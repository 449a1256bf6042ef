// Browser test of the gateway's Swagger UI, as a person would use it.
//
// Against a running gateway (sandbox mode) it opens /docs/ in headless Debian
// Chromium driven by playwright-core and checks that:
//   1. no request leaves the machine (every URL the browser asks for is
//      localhost / 127.0.0.1 / [::1]; any other is blocked AND fails the test),
//   2. every operation of openapi.yaml is listed (#operations-<tag>-<operationId>),
//      with its method and path,
//   3. Authorize offers basicAuth first; with it, listClients → Try it out →
//      Execute shows a 200 and the demo clients (jdoe) in the response body,
//   4. EVERY operation, in openapi.yaml's order, works on the first try with
//      what Swagger UI pre-fills (Try it out → Execute, nothing typed): each
//      answers the first 2xx status the spec lists for it. The destructive
//      ones (bulk delete, delete, owner change, convert-to-reseller) run on
//      demo clients kept for them, so they break none of the others. Along
//      the way: listClients shows the demo clients; createClient sends its
//      default (first) example with an empty Idempotency-Key → 201;
//      getClient answers an ETag, which is typed into patchClient's If-Match
//      (the one thing typed) → 200.
// scripts/clients-test.sh then runs the TypeScript example against the same
// sandbox: the defaults must have left it usable.
// Screenshots go to $ARTIFACTS_DIR (default <repo>/artifacts/).
//
//   PLESKGATE_URL        the gateway, e.g. http://127.0.0.1:18080 (must be loopback)
//   PLESKGATE_LOGIN      default admin
//   PLESKGATE_PASSWORD   required: the sandbox password (PLESKGATE_SANDBOX_PASSWORD)
//   CHROMIUM_PATH        default /usr/bin/chromium
//   OPENAPI_YAML         default <repo>/openapi.yaml
//
// Exits non-zero on any failure; the last line is "N passed, M failed".
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { parse as parseYAML } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const baseURL = (process.env.PLESKGATE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const login = process.env.PLESKGATE_LOGIN ?? "admin";
const password = process.env.PLESKGATE_PASSWORD;
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const specPath = process.env.OPENAPI_YAML ?? join(repo, "openapi.yaml");
const artifacts = resolve(process.env.ARTIFACTS_DIR ?? join(repo, "artifacts"));

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const isLocal = (url) => {
  const u = new URL(url);
  if (["data:", "blob:", "about:"].includes(u.protocol)) return true; // never leave the browser
  return (u.protocol === "http:" || u.protocol === "https:" || u.protocol === "ws:" || u.protocol === "wss:") && LOOPBACK.has(u.hostname);
};

let passed = 0;
let failed = 0;
const t0 = Date.now();
function check(name, ok, got) {
  if (process.env.DEBUG_TIMING) console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`);
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${got === undefined ? "" : `: got ${typeof got === "string" ? got : JSON.stringify(got)}`}`);
  }
  return ok;
}

// The trimmed text of a locator's first match, "" when there is none (no waiting).
async function textOf(locator) {
  const all = await locator.allTextContents();
  return (all[0] ?? "").trim();
}

// Every operation of the contract: [{ operationId, tag, method, path, summary }].
function operationsOf(spec) {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of ["get", "put", "post", "delete", "options", "head", "patch", "trace"]) {
      const op = item?.[method];
      if (!op) continue;
      ops.push({ operationId: op.operationId, tag: op.tags?.[0] ?? "default", method, path, summary: op.summary ?? "" });
    }
  }
  return ops;
}

async function main() {
  if (!password) throw new Error("PLESKGATE_PASSWORD is not set (the sandbox's PLESKGATE_SANDBOX_PASSWORD)");
  if (!isLocal(baseURL)) throw new Error(`PLESKGATE_URL must be a loopback address, got ${baseURL}`);
  mkdirSync(artifacts, { recursive: true });

  const spec = parseYAML(readFileSync(specPath, "utf8"));
  const ops = operationsOf(spec);
  check(`openapi.yaml has operations (${ops.length})`, ops.length > 0 && ops.every((o) => o.operationId), ops.filter((o) => !o.operationId));

  const userDataDir = mkdtempSync(join(tmpdir(), "pleskgate-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 1000 },
    timeout: 60_000,
  });
  const requests = [];
  const offHost = [];
  const pageErrors = [];
  try {
    context.setDefaultTimeout(30_000);
    // Record every request of every page, worker and service worker, and
    // refuse anything not on this machine (so a regression cannot leak).
    context.on("request", (req) => requests.push(`${req.method()} ${req.url()}`));
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      offHost.push(url);
      return route.abort("blockedbyclient");
    });

    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("request", (req) => {
      if (!isLocal(req.url())) offHost.push(req.url());
    });

    // 1. /docs/ loads from the binary alone.
    const resp = await page.goto(`${baseURL}/docs/`, { waitUntil: "load" });
    check("GET /docs/ → 200", resp?.status() === 200, resp?.status());
    await page.waitForSelector(".opblock", { timeout: 30_000 }).catch(() => {});
    await page.waitForLoadState("networkidle").catch(() => {});
    const title = await textOf(page.locator(".info .title"));
    check("Swagger UI rendered the spec title", title.includes("pleskgate"), title);
    const loadErrors = await page.locator(".errors-wrapper, .loading-container .errors").allTextContents();
    check("Swagger UI shows no load error", loadErrors.length === 0, loadErrors);

    // 2. Every operation of openapi.yaml is in the UI, with its method and path.
    const rendered = await page.$$eval(".opblock[id^='operations-']", (els) => els.map((e) => e.id));
    const missing = [];
    for (const op of ops) {
      const id = `operations-${op.tag}-${op.operationId}`;
      const block = page.locator(`[id="${id}"]`);
      if ((await block.count()) !== 1) {
        missing.push(`${op.method.toUpperCase()} ${op.path} (${id})`);
        continue;
      }
      const method = (await block.locator(".opblock-summary-method").first().textContent())?.trim().toLowerCase();
      const path = (await block.locator(".opblock-summary-path").first().getAttribute("data-path")) ??
        (await block.locator(".opblock-summary-path").first().textContent())?.replace(/\u200b/g, "").trim();
      if (method !== op.method || path !== op.path) missing.push(`${op.operationId}: shows ${method} ${path}, spec has ${op.method} ${op.path}`);
    }
    check(`every operation of openapi.yaml is listed (${ops.length})`, missing.length === 0, missing);
    const extra = rendered.filter((id) => !ops.some((op) => id === `operations-${op.tag}-${op.operationId}`));
    check(`no operation listed that openapi.yaml lacks (${rendered.length} rendered)`, extra.length === 0, extra);
    await page.screenshot({ path: join(artifacts, "swagger-ui-operations.png"), fullPage: true });

    // 3. Authorize with HTTP Basic (the sandbox administrator).
    await page.locator(".auth-wrapper button.authorize").click();
    const modal = page.locator(".modal-ux");
    await modal.waitFor();
    const basic = modal.locator(".auth-container").filter({ hasText: "basicAuth" });
    check("Authorize dialog offers basicAuth", (await basic.count()) === 1, await basic.count());
    const firstScheme = await textOf(modal.locator(".auth-container h4").first());
    check("Authorize dialog lists basicAuth first", firstScheme.startsWith("basicAuth"), firstScheme);
    await modal.screenshot({ path: join(artifacts, "swagger-ui-authorize.png") });
    await basic.locator("input[type=text]").fill(login);
    await basic.locator("input[type=password]").fill(password);
    await basic.locator("button.authorize").click();
    const authorized = await basic.locator("button", { hasText: "Logout" }).waitFor({ timeout: 10_000 }).then(() => true, () => false);
    check("basicAuth is authorized", authorized, await basic.textContent());
    await modal.locator("button.btn-done").first().click();
    await modal.waitFor({ state: "detached" });

    // 4. Every operation with its defaults, in the spec's order.
    await runEveryDefault(page, spec, ops);

    check("no JavaScript errors on the page", pageErrors.length === 0, pageErrors);
  } catch (err) {
    // Report and go on to the checks below: they say what the page asked for.
    check("the Swagger UI session ran to the end", false, err instanceof Error ? err.message.split("\n")[0] : String(err));
  } finally {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
  check(`browser made requests, all on this machine (${requests.length})`, requests.length > 0 && offHost.length === 0, [...new Set(offHost)]);
  check("the spec was fetched from the gateway", requests.some((r) => r === `GET ${baseURL}/openapi.json`), requests);
  if (failed > 0) console.log(`requests seen:\n  ${requests.join("\n  ")}`);
  console.log(`screenshots in ${artifacts}: swagger-ui-operations.png, swagger-ui-authorize.png, swagger-ui-try-it-out.png, swagger-ui-list-clients.png, swagger-ui-create-client.png, swagger-ui-get-client.png, swagger-ui-patch-client.png`);
}

// The ClientId path parameter's example, as openapi.yaml writes it.
const exampleId = (spec) => String(spec.components.parameters.ClientId.example);

// Expands an operation, presses "Try it out" and returns its block.
async function tryOut(page, operationId, tag = "clients") {
  const op = page.locator(`[id="operations-${tag}-${operationId}"]`);
  await op.locator(".opblock-summary-control").first().click();
  await op.locator("button.try-out__btn").click();
  return op;
}

// Presses Execute and reads the live response: status, body text, header text.
async function execute(op) {
  await op.locator("button.execute").click();
  const live = op.locator(".live-responses-table");
  await live.waitFor();
  const row = live.locator(".response").first();
  const status = await textOf(row.locator(".response-col_status"));
  const body = await textOf(row.locator(".response-col_description").locator("h5", { hasText: "Response body" }).locator("xpath=following-sibling::*[1]/descendant-or-self::pre"));
  const headers = await textOf(row.locator(".response-col_description").locator("h5", { hasText: "Response headers" }).locator("xpath=following-sibling::*[1]"));
  return { status, body, headers };
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The status an operation's defaults should get: the first 2xx the spec lists.
function successOf(spec, o) {
  return Object.keys(spec.paths[o.path][o.method].responses).find((code) => /^2\d\d$/.test(code));
}

// The first example of a request body, as Swagger UI pre-fills it.
function firstExample(spec, o, mediaType) {
  const media = spec.paths[o.path][o.method].requestBody?.content?.[mediaType];
  if (!media) return undefined;
  if (media.examples) return Object.entries(media.examples)[0];
  return media.example === undefined ? undefined : ["example", { value: media.example }];
}

// Runs every operation of openapi.yaml, in its order, with what Swagger UI
// pre-fills, and checks its status; a few operations get more checks.
async function runEveryDefault(page, spec, ops) {
  let etag;
  let created;
  // Checks before Execute (the op block, Try it out pressed) and after it.
  const before = {
    createClient: async (op, o) => {
      const key = op.locator('tr[data-param-name="Idempotency-Key"] input');
      check("createClient: Idempotency-Key starts empty", (await key.count()) === 1 && (await key.inputValue()) === "", await key.inputValue().catch(() => "(no input)"));
      const [name, first] = firstExample(spec, o, "application/json");
      const prefilled = parseJSON(await op.locator("textarea.body-param__text").inputValue());
      check(`createClient: the body is the default example "${name}"`, JSON.stringify(prefilled) === JSON.stringify(first.value), prefilled);
    },
    getClient: async (op) => {
      const id = op.locator('tr[data-param-name="id"] input');
      check(`getClient: {id} is pre-filled with the example ${exampleId(spec)}`, (await id.inputValue()) === exampleId(spec), await id.inputValue());
    },
    patchClient: async (op, o) => {
      const ifMatch = op.locator('tr[data-param-name="If-Match"] input');
      check("patchClient: If-Match starts empty", (await ifMatch.inputValue()) === "", await ifMatch.inputValue());
      await ifMatch.fill(etag ?? "");
      const [name, first] = firstExample(spec, o, "application/merge-patch+json");
      const prefilled = parseJSON(await op.locator("textarea.body-param__text").inputValue());
      check(`patchClient: the body is the default example "${name}"`, JSON.stringify(prefilled) === JSON.stringify(first.value), prefilled);
    },
  };
  const after = {
    listClients: async (op, res) => {
      check("listClients lists the demo client jdoe", res.body.includes('"login": "jdoe"') || res.body.includes('"login":"jdoe"'), res.body.slice(0, 300));
      check("listClients lists the demo client asmith", res.body.includes("asmith"), res.body.slice(0, 300));
      const requestURL = await textOf(op.locator(".request-url pre"));
      check("request went to this gateway's /clients", requestURL.startsWith(`${baseURL}/clients`) && new URL(requestURL).pathname === "/clients", requestURL);
      const curl = await textOf(op.locator(".curl-command"));
      check("curl shows the Authorization header", /Authorization: Basic /.test(curl), curl.slice(0, 300));
      await op.screenshot({ path: join(artifacts, "swagger-ui-list-clients.png") });
      await op.locator(".responses-inner h4").first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: join(artifacts, "swagger-ui-try-it-out.png") });
    },
    createClient: async (op, res, o) => {
      const [, first] = firstExample(spec, o, "application/json");
      created = parseJSON(res.body);
      check("POST /clients answered the new client", created?.login === first.value.login && Number.isInteger(created?.id), res.body.slice(0, 300));
      check("the created client is not the demo client the path example names", created !== undefined && created.id !== Number(exampleId(spec)), created);
      await op.locator(".responses-inner h4").first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: join(artifacts, "swagger-ui-create-client.png") });
    },
    getClient: async (op, res) => {
      etag = /etag:\s*("[^"]*")/i.exec(res.headers)?.[1];
      check("GET /clients/{id} shows an ETag response header", etag !== undefined, res.headers);
      await op.locator(".responses-inner h4").first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: join(artifacts, "swagger-ui-get-client.png") });
    },
    patchClient: async (op, res, o) => {
      const [, first] = firstExample(spec, o, "application/merge-patch+json");
      const body = parseJSON(res.body);
      check("PATCH answered the changed client", body !== undefined && Object.entries(first.value).every(([k, v]) => (v === null ? !(k in body) : body[k] === v)), res.body.slice(0, 300));
      const curl = await textOf(op.locator(".curl-command"));
      check("the PATCH sent the ETag as If-Match", curl.includes(`If-Match: ${etag}`) || curl.includes(`If-Match: ${etag?.replace(/"/g, '\\"')}`), curl.slice(0, 400));
      await op.locator(".responses-inner h4").first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.screenshot({ path: join(artifacts, "swagger-ui-patch-client.png") });
    },
  };
  for (const o of ops) {
    const want = successOf(spec, o);
    const name = `Try it out: ${o.method.toUpperCase()} ${o.path} (${o.operationId}) with its defaults → ${want}`;
    try {
      const op = await tryOut(page, o.operationId, o.tag);
      await before[o.operationId]?.(op, o);
      const res = await execute(op);
      check(name, res.status === want, `${res.status} ${res.body.slice(0, 300)}`);
      await after[o.operationId]?.(op, res, o);
      // Fold it again: thirty open operations make every later click slow.
      await op.locator(".opblock-summary-control").first().click();
    } catch (err) {
      check(name, false, err instanceof Error ? err.message.split("\n")[0] : String(err));
    }
  }
}

// A bound on the whole run: a hung browser must not hang CI.
const watchdog = setTimeout(() => {
  console.log("FAIL browser test did not finish within 400 s");
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 400_000);
watchdog.unref();

try {
  await main();
} catch (err) {
  failed++;
  console.log(`FAIL ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
