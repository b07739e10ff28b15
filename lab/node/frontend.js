// frontend: the Node.js entry service. GET /buy calls orders' POST /checkout through a
// keep-alive connection pool with a timeout and a retry loop; GET /catalog reads the store.
// Logs are pino JSON lines; the pino instrumentation adds trace_id and span_id.
'use strict';
const http = require('http');
const pino = require('pino');

const log = pino({ name: 'frontend' });
const PORT = Number(process.env.LAB_PORT || 3000);
const ORDERS_PORT = Number(process.env.LAB_ORDERS_PORT || 8000);
const KV_PORT = Number(process.env.LAB_KV_PORT || 7001);
const ATTEMPTS = 2;
const TIMEOUT_MS = 3000;
const pool = new http.Agent({ keepAlive: true, maxSockets: 16 });

function call(options, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', agent: pool, timeout: TIMEOUT_MS, ...options }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function checkout(sku, user) {
  const body = JSON.stringify({ sku, user, qty: 1 + (sku.length % 3) });
  let last = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const r = await call({
        port: ORDERS_PORT, method: 'POST', path: '/checkout',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, body);
      if (r.status < 500) return r;
      last = r;
      log.warn({ attempt: attempt + 1, status: r.status }, 'checkout retry');
    } catch (e) {
      last = { status: 504, body: JSON.stringify({ error: e.message }) };
      log.warn({ attempt: attempt + 1, reason: e.message }, 'checkout retry');
    }
    await sleep(100 * (attempt + 1));
  }
  return last;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const sku = url.searchParams.get('sku') || 'sku-1';
  const user = url.searchParams.get('user') || 'u0';
  let out;
  try {
    if (url.pathname === '/buy') {
      out = await checkout(sku, user);
      if (out.status >= 500) log.error({ status: out.status, sku }, 'checkout failed');
      else log.info({ status: out.status, sku }, 'checkout done');
    } else if (url.pathname === '/catalog') {
      out = await call({ port: KV_PORT, method: 'GET', path: `/kv/catalog:${sku}` });
    } else {
      out = { status: 404, body: '{"error":"not found"}' };
    }
  } catch (e) {
    log.error({ reason: e.message }, 'request failed');
    out = { status: 502, body: JSON.stringify({ error: e.message }) };
  }
  res.writeHead(out.status, { 'content-type': 'application/json' });
  res.end(out.body);
});
server.keepAliveTimeout = 30000;
server.listen(PORT, '127.0.0.1');
