// A typed pleskgate client in a few lines, exercised end to end against a
// running gateway: create, read, patch (JSON merge patch), list and delete a
// client, then read it again and check the RFC 9457 problem that comes back;
// then create two clients in one batch (one packet) beside a login that exists.
//
//   PLESKGATE_URL       gateway base URL          (default http://localhost:8080)
//   PLESKGATE_LOGIN     Plesk login, HTTP Basic   (default admin)
//   PLESKGATE_PASSWORD  Plesk password            (default demo: PLESKGATE_SANDBOX_PASSWORD=demo make run)
//
// Exits non-zero when any check fails; the last line is "N passed, M failed".
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.gen.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = (process.env.PLESKGATE_URL ?? "http://localhost:8080").replace(/\/+$/, "");
const login = process.env.PLESKGATE_LOGIN ?? "admin";
const password = process.env.PLESKGATE_PASSWORD ?? "demo";

// Node's fetch reports an unreachable server as a bare "fetch failed": say
// which URL was tried and why, so a wrong PLESKGATE_URL is obvious.
async function fetchNamingURL(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    throw new Error(`fetch failed: ${request.method} ${request.url}${cause} (is the gateway running at PLESKGATE_URL=${baseUrl}?)`, { cause: err });
  }
}

// Every request carries HTTP Basic: in passthrough mode the gateway hands the
// credentials to Plesk, which decides what this caller may see and do.
const api = createClient<paths>({
  baseUrl,
  fetch: fetchNamingURL,
  headers: { Authorization: "Basic " + Buffer.from(`${login}:${password}`).toString("base64") },
});

let passed = 0;
let failed = 0;

function check(name: string, ok: boolean, got?: unknown): boolean {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${got === undefined ? "" : `: got ${JSON.stringify(got)}`}`);
  }
  return ok;
}

function isProblem(p: unknown): p is Problem {
  return typeof p === "object" && p !== null && "type" in p && "title" in p && "status" in p;
}

async function main(): Promise<void> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const newLogin = `ts${suffix}`.slice(0, 20);

  // Create: POST /clients → 201, Location, the client as Plesk now reports it.
  const created = await api.POST("/clients", {
    params: { header: { "Idempotency-Key": `ts-example-${suffix}` } },
    body: {
      name: "Tess Script",
      login: newLogin,
      password: "Ts-example-Pass1",
      email: `${newLogin}@example.com`,
      city: "Springfield",
      fax: "+1 555 0101",
      country: "US",
    },
  });
  if (!check("POST /clients → 201", created.response.status === 201 && created.data !== undefined, created.error ?? created.response.status)) {
    return;
  }
  const client = created.data!;
  const id = client.id;
  check("created client has the login sent", client.login === newLogin, client.login);
  check("Location points at the new client", (created.response.headers.get("Location") ?? "").endsWith(`/clients/${id}`), created.response.headers.get("Location"));

  try {
    // Read: GET /clients/{id} → 200 with an ETag.
    const got = await api.GET("/clients/{id}", { params: { path: { id } } });
    check("GET /clients/{id} → 200", got.response.status === 200 && got.data?.login === newLogin, got.error ?? got.data);
    const etag = got.response.headers.get("ETag");
    check("GET /clients/{id} has an ETag", !!etag, etag);

    // Patch: application/merge-patch+json; only what is sent changes, null clears.
    const patched = await api.PATCH("/clients/{id}", {
      params: { path: { id }, header: etag ? { "If-Match": etag } : {} },
      headers: { "Content-Type": "application/merge-patch+json" },
      body: { city: "Ottawa", fax: null },
    });
    check("PATCH /clients/{id} (merge patch) → 200", patched.response.status === 200, patched.error ?? patched.response.status);
    check("PATCH changed city", patched.data?.city === "Ottawa", patched.data?.city);
    check("PATCH with null cleared fax", !patched.data?.fax, patched.data?.fax);
    check("PATCH left email alone", patched.data?.email === `${newLogin}@example.com`, patched.data?.email);

    // A stale ETag is refused with 412 (the client changed since `etag`).
    if (etag) {
      const stale = await api.PATCH("/clients/{id}", {
        params: { path: { id }, header: { "If-Match": etag } },
        headers: { "Content-Type": "application/merge-patch+json" },
        body: { city: "Toronto" },
      });
      check("PATCH with a stale If-Match → 412 problem", stale.response.status === 412 && isProblem(stale.error), stale.error ?? stale.response.status);
    }

    // List: one filter kind, repeatable (?login=a&login=b).
    const listed = await api.GET("/clients", { params: { query: { login: [newLogin, "jdoe"] } } });
    const logins = (listed.data?.items ?? []).map((c) => c.login).sort();
    check("GET /clients?login=… → 200", listed.response.status === 200, listed.error ?? listed.response.status);
    check("list finds the new client and jdoe", JSON.stringify(logins) === JSON.stringify([newLogin, "jdoe"].sort()), logins);
    check("listed client shows the patched city", listed.data?.items.find((c) => c.id === id)?.city === "Ottawa");
  } finally {
    // Delete: 204, no body. In `finally` so a failed check leaves no client behind.
    const deleted = await api.DELETE("/clients/{id}", { params: { path: { id } } });
    check("DELETE /clients/{id} → 204", deleted.response.status === 204, deleted.error ?? deleted.response.status);
  }

  // Gone: 404 as application/problem+json carrying Plesk's own error code.
  const gone = await api.GET("/clients/{id}", { params: { path: { id } } });
  check("GET after DELETE → 404", gone.response.status === 404, gone.response.status);
  check(
    "404 is application/problem+json",
    (gone.response.headers.get("Content-Type") ?? "").startsWith("application/problem+json"),
    gone.response.headers.get("Content-Type"),
  );
  const p: unknown = gone.error;
  check("404 body is a problem", isProblem(p), p);
  if (isProblem(p)) {
    check("problem.type is a URI", typeof p.type === "string" && p.type.length > 0, p.type);
    check("problem.title is set", typeof p.title === "string" && p.title.length > 0, p.title);
    check("problem.status is 404", p.status === 404, p.status);
    check("problem.request_id matches X-Request-ID", !!p.request_id && p.request_id === gone.response.headers.get("X-Request-ID"), p.request_id);
    check("problem.plesk_errcode is 1013", p.plesk_errcode === 1013, p.plesk_errcode);
  }

  // Batch: POST /clients/batch → 200, one result per item in order, all in
  // one Plesk packet. jdoe exists (a sandbox demo client): its item is a 409
  // problem, and jdoe is not reported as created.
  const batchA = `tb${suffix}`.slice(0, 20);
  const batchB = `tc${suffix}`.slice(0, 20);
  const batch = await api.POST("/clients/batch", {
    params: { header: { "Idempotency-Key": `ts-batch-${suffix}` } },
    body: {
      clients: [
        { name: "Tess Batch", login: batchA, password: "Ts-example-Pass1" },
        { name: "Not John", login: "jdoe", password: "Ts-example-Pass1" },
        { name: "Theo Batch", login: batchB, password: "Ts-example-Pass1" },
      ],
    },
  });
  const results = batch.data?.results ?? [];
  check("POST /clients/batch → 200", batch.response.status === 200, batch.error ?? batch.response.status);
  check(
    "batch items answer 201, 409, 201 in request order",
    JSON.stringify(results.map((r) => r.status)) === "[201,409,201]",
    results.map((r) => r.status),
  );
  check(
    "batch's created items carry their clients",
    results[0]?.client?.login === batchA && results[2]?.client?.login === batchB,
    results.map((r) => r.client?.login),
  );
  check("batch's taken login is a problem with Plesk's code", !results[1]?.client && typeof results[1]?.problem?.plesk_errcode === "number", results[1]);
  for (const r of results) {
    if (r.client) await api.DELETE("/clients/{id}", { params: { path: { id: r.client.id } } });
  }
}

try {
  await main();
} catch (err) {
  failed++;
  console.log(`FAIL unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
