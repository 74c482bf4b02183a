// Drives Apache OpenDAL's webdav service (the storage library inside
// sccache >= 0.5, rstash and cachepot) the way sccache does: the
// .sccache_check probe, then writes of 64-hex keys under a/b/c/, stats,
// reads and misses. Prints "hits N misses N writes N" on success.
// Usage: node opendal_sccache.js ENDPOINT ROOT [TOKEN]
'use strict';
const crypto = require('crypto');
const { Operator } = require('opendal');

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

function sccacheKey(i) {
  const hex = crypto.createHash('sha256').update('object ' + i).digest('hex');
  return `${hex[0]}/${hex[1]}/${hex[2]}/${hex}`;
}

async function expectMiss(op, path) {
  try {
    await op.read(path);
  } catch (e) {
    if (String(e).includes('NotFound')) return;
    fail(`read ${path}: expected NotFound, got ${e}`);
  }
  fail(`read ${path}: expected a miss, got data`);
}

async function main() {
  const [endpoint, root, token] = process.argv.slice(2);
  const opts = { endpoint, root };
  if (token) opts.token = token;
  const op = new Operator('webdav', opts);
  let hits = 0, misses = 0, writes = 0;

  // sccache's start-up probe: a read (a miss is fine), then a write
  await expectMiss(op, '.sccache_check');
  await op.write('.sccache_check', 'Hello, World!');
  const probe = await op.read('.sccache_check');
  if (probe.toString() !== 'Hello, World!') fail('probe read back differs');

  const bodies = [];
  for (let i = 0; i < 20; i++) {
    const key = sccacheKey(i);
    await expectMiss(op, key);
    misses++;
    const body = crypto.randomBytes(100 + i * 997);
    await op.write(key, body);
    writes++;
    bodies.push([key, body]);
  }
  for (const [key, body] of bodies) {
    const meta = await op.stat(key);
    if (Number(meta.contentLength) !== body.length)
      fail(`stat ${key}: length ${meta.contentLength}, want ${body.length}`);
    if (!meta.isFile()) fail(`stat ${key}: not a file`);
    const got = await op.read(key);
    if (Buffer.compare(got, body) !== 0) fail(`read ${key}: bytes differ`);
    hits++;
  }
  // a collection made on the way must stat as a directory
  const dir = bodies[0][0].split('/').slice(0, 3).join('/') + '/';
  const dmeta = await op.stat(dir);
  if (!dmeta.isDirectory()) fail(`stat ${dir}: not a directory`);
  // overwrite, and delete
  await op.write(bodies[1][0], 'replaced');
  if ((await op.read(bodies[1][0])).toString() !== 'replaced') fail('overwrite not visible');
  await op.delete(bodies[2][0]);
  await expectMiss(op, bodies[2][0]);
  console.log(`hits ${hits} misses ${misses} writes ${writes}`);
}

main().catch((e) => fail(String(e && e.stack ? e.stack : e)));
