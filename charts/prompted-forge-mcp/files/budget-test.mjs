// Budget check run by `helm test`: plain Node 20, no dependencies.
// Calls each endpoint REQUESTS times sequentially, computes the nearest-rank
// P95 latency, compares it with the budget and exits 1 if any check fails.
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

  const results = [];
  results.push(await check('/healthz', `${target}/healthz`, requests, livenessMs));
  results.push(await check('/healthz?readiness=1', `${target}/healthz?readiness=1`, requests, readinessMs));
  if (metricsUrl) {
    results.push(await check('/metrics', metricsUrl, requests, metricsMs, metricsMaxBytes));
  }

  const failed = results.filter((ok) => !ok).length;
  console.log(failed === 0 ? 'budget: all checks passed' : `budget: ${failed} endpoint(s) failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
