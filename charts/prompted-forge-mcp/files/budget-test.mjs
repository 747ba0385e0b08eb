// Budget check run by `helm test`: plain Node 20, no dependencies.
// Calls each endpoint REQUESTS times sequentially, computes the nearest-rank
// P95 latency, compares it with the budget and exits 1 if any check fails.
// Load mode (LOAD_CLIENTS > 0): then LOAD_CLIENTS concurrent clients call the
// health endpoints for LOAD_SECONDS (at most LOAD_MAX_REQUESTS requests in all)
// and the P95 under load is judged against LOAD_P95_MS: a warning unless
// LOAD_ENFORCE is "true" (the budget enforces it from phase 4.0).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const TIMEOUT_MS = 5000;

function env(name, { required = true } = {}) {
  const value = process.env[name];
  if (required && (value === undefined || value === '')) {
    console.error(`missing required environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

function positiveNumber(name) {
  const n = Number(env(name));
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number, got ${JSON.stringify(process.env[name])}`);
    process.exit(2);
  }
  return n;
}

function get(url) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent: false, timeout: TIMEOUT_MS }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: performance.now() - start }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${TIMEOUT_MS}ms`)));
    req.on('error', reject);
  });
}

// Nearest-rank percentile: the ceil(p/100 * n)-th smallest sample.
export function p95(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)];
}

async function measure(url, requests) {
  const samples = [];
  let maxBytes = 0;
  for (let i = 0; i < requests; i += 1) {
    const r = await get(url);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    samples.push(r.ms);
    maxBytes = Math.max(maxBytes, r.bytes);
  }
  return { p95: p95(samples), maxBytes };
}

// Closed-loop clients: each sends its next request when the previous one has
// answered, alternating the two health endpoints. The loop is bounded twice:
// no request starts after the deadline, and no more than maxRequests start in
// all; each request times out after TIMEOUT_MS, so the run ends by itself.
async function load(target, { clients, seconds, maxRequests }) {
  const endpoints = ['/healthz', '/healthz?readiness=1'];
  const results = Object.fromEntries(endpoints.map((e) => [e, { samples: [], errors: 0, lastError: '' }]));
  const deadline = performance.now() + seconds * 1000;
  let started = 0;
  async function client(index) {
    for (let turn = index; performance.now() < deadline && started < maxRequests; turn += 1) {
      started += 1;
      const endpoint = endpoints[turn % endpoints.length];
      try {
        const r = await get(`${target}${endpoint}`);
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        results[endpoint].samples.push(r.ms);
      } catch (err) {
        results[endpoint].errors += 1;
        results[endpoint].lastError = err.message;
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return results;
}

async function checkLoad(target, options, limitMs, enforce) {
  const results = await load(target, options);
  let ok = true;
  for (const [endpoint, r] of Object.entries(results)) {
    const n = r.samples.length;
    const within = n > 0 && r.errors === 0 && p95(r.samples) < limitMs;
    const verdict = within ? 'ok' : (enforce ? 'FAIL' : 'WARN');
    const figure = n > 0 ? p95(r.samples).toFixed(1) : 'none';
    const error = r.errors > 0 ? ` last_error=${JSON.stringify(r.lastError)}` : '';
    console.log(`load endpoint=${endpoint} clients=${options.clients} seconds=${options.seconds} requests=${n + r.errors}`
      + ` errors=${r.errors}${error} p95_ms=${figure} limit_ms=${limitMs} ${verdict}`);
    ok = ok && (within || !enforce);
  }
  return ok;
}

function nonNegativeInteger(name) {
  const raw = env(name, { required: false });
  const n = raw === undefined || raw === '' ? 0 : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

async function check(label, url, requests, limitMs, maxBytes) {
  let ok = true;
  try {
    const r = await measure(url, requests);
    const latencyOk = r.p95 < limitMs;
    console.log(`endpoint=${label} p95_ms=${r.p95.toFixed(1)} limit_ms=${limitMs} ${latencyOk ? 'ok' : 'FAIL'}`);
    ok = latencyOk;
    if (maxBytes !== undefined) {
      const sizeOk = r.maxBytes < maxBytes;
      console.log(`endpoint=${label} bytes=${r.maxBytes} limit_bytes=${maxBytes} ${sizeOk ? 'ok' : 'FAIL'}`);
      ok = ok && sizeOk;
    }
  } catch (err) {
    console.log(`endpoint=${label} error=${JSON.stringify(err.message)} limit_ms=${limitMs} FAIL`);
    ok = false;
  }
  return ok;
}

async function main() {
  const target = env('TARGET_URL').replace(/\/+$/, '');
  const metricsUrl = env('METRICS_URL', { required: false });
  const requests = positiveNumber('REQUESTS');
  if (!Number.isInteger(requests)) {
    console.error('REQUESTS must be an integer');
    process.exit(2);
  }

  // Read every threshold before the first request, so a missing one fails at once.
  const livenessMs = positiveNumber('LIVENESS_P95_MS');
  const readinessMs = positiveNumber('READINESS_P95_MS');
  const metricsMs = metricsUrl ? positiveNumber('METRICS_P95_MS') : undefined;
  const metricsMaxBytes = metricsUrl ? positiveNumber('METRICS_MAX_BYTES') : undefined;
  const clients = nonNegativeInteger('LOAD_CLIENTS');
  const loadOptions = clients > 0 ? {
    clients,
    seconds: positiveNumber('LOAD_SECONDS'),
    maxRequests: positiveNumber('LOAD_MAX_REQUESTS'),
  } : undefined;
  const loadMs = loadOptions ? positiveNumber('LOAD_P95_MS') : undefined;
  const loadEnforce = env('LOAD_ENFORCE', { required: false }) === 'true';

  const results = [];
  results.push(await check('/healthz', `${target}/healthz`, requests, livenessMs));
  results.push(await check('/healthz?readiness=1', `${target}/healthz?readiness=1`, requests, readinessMs));
  if (metricsUrl) {
    results.push(await check('/metrics', metricsUrl, requests, metricsMs, metricsMaxBytes));
  }
  if (loadOptions) {
    results.push(await checkLoad(target, loadOptions, loadMs, loadEnforce));
  }

  const failed = results.filter((ok) => !ok).length;
  console.log(failed === 0 ? 'budget: all checks passed' : `budget: ${failed} endpoint(s) failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
