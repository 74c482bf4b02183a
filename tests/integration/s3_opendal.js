// Drives Apache OpenDAL's s3 service (npm opendal, the storage library
// inside sccache >= 0.4) in sccache's order, as tests/e2e/opendal_sccache.js
// does for WebDAV. One "run" is one sccache server life:
//   GET prefix/.sccache_check (a miss on the first run, a hit after), then
//   PUT it ("Hello, World!": sccache is read-write only when this works);
//   per object: GET prefix/h0/h1/h2/<64 hex> (first run: a miss, then a
//   PUT of the body; second run: a hit with the same bytes).
// No HEAD, no listing, no Range, no DELETE: what sccache sends.
// Prints "probe miss|hit hits N misses N writes N".
// Usage: node s3_opendal.js ENDPOINT BUCKET ROOT first|second [AK SK]
'use strict';
const crypto = require('crypto');
const { Operator } = require('opendal');

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

function key(i) {
  const h = crypto.createHash('sha256').update('sccache object ' + i).digest('hex');
  return `${h[0]}/${h[1]}/${h[2]}/${h}`;
}

// a body of the object's own, the same in both runs (sccache stores zips)
function body(i) {
  const n = 100 + i * 997;
  const out = Buffer.alloc(n);
  let block = Buffer.alloc(0), off = 0, ctr = 0;
  while (off < n) {
    block = crypto.createHash('sha256').update(`body ${i} ${ctr++}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

// sccache's read: a whole-object GET; NotFound is a miss
async function get(op, path) {
  try {
    return await op.read(path);
  } catch (e) {
    if (String(e).includes('NotFound')) return null;
    fail(`GET ${path}: ${e}`);
  }
}

async function main() {
  const [endpoint, bucket, root, run, ak, sk] = process.argv.slice(2);
  const opts = {
    endpoint, bucket, root, region: 'us-east-1',
    disable_config_load: 'true', disable_ec2_metadata: 'true',
  };
  if (ak) {
    opts.access_key_id = ak;
    opts.secret_access_key = sk;
  } else {
    opts.allow_anonymous = 'true';
  }
  const op = new Operator('s3', opts);
  let hits = 0, misses = 0, writes = 0;

  const probe = await get(op, '.sccache_check');
  if (run === 'first' && probe !== null) fail('.sccache_check exists before the first run');
  if (run === 'second' && (probe === null || probe.toString() !== 'Hello, World!'))
    fail(`.sccache_check on the second run: ${probe}`);
  try {
    await op.write('.sccache_check', 'Hello, World!');
  } catch (e) {
    fail(`PUT .sccache_check (sccache would be read-only): ${e}`);
  }

  for (let i = 0; i < 20; i++) {
    const k = key(i), b = body(i);
    const got = await get(op, k);
    if (run === 'first') {
      if (got !== null) fail(`GET ${k}: a hit on the first run`);
      misses++;
      try {
        await op.write(k, b);
      } catch (e) {
        fail(`PUT ${k}: ${e}`);
      }
      writes++;
    } else {
      if (got === null) fail(`GET ${k}: a miss on the second run`);
      if (Buffer.compare(Buffer.from(got), b) !== 0) fail(`GET ${k}: other bytes (${got.length} of ${b.length})`);
      hits++;
    }
  }
  console.log(`probe ${probe === null ? 'miss' : 'hit'} hits ${hits} misses ${misses} writes ${writes}`);
}

main().catch((e) => fail(String(e)));
