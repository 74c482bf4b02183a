// The status page of cstashd: reads /_/stats.json (same origin, so the
// browser sends the credentials it logged in to the page with) and draws
// each namespace's figures, its tiers and charts of its history on
// <canvas>. No framework, nothing fetched from elsewhere.
'use strict';

const REFRESH_MS = 10000;
const KINDS = ['ac', 'cas', 'gradle', 'webdav', 's3', 'other'];
let pending = []; // charts to draw once they are laid out (their size is known)
let drawn = [];
const COLORS = { ratio: '#23883f', req: '#2f6fdb', out: '#2f6fdb', in: '#8a4fd0' };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function count(n) {
  return Number(n).toLocaleString('en-US');
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(n), u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return (u === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + units[u];
}

function ratio(hits, misses) {
  const n = hits + misses;
  return n ? (100 * hits / n).toFixed(1) + ' %' : '–';
}

// A figure cell: the number as shown, the exact value in data-v.
function cell(key, value, text) {
  const td = el('td', { 'data-k': key, 'data-v': String(value), text: text });
  if (Number(value) === 0) td.classList.add('zero');
  return td;
}

function quota(ns) {
  const box = el('div', { class: 'quota' });
  const bar = el('div', { class: 'bar' });
  const fill = el('div');
  let text;
  if (ns.max_size > 0) {
    const pct = Math.min(100, 100 * ns.bytes / ns.max_size);
    fill.style.width = pct.toFixed(1) + '%';
    if (pct >= 95) bar.classList.add('full');
    else if (pct >= 80) bar.classList.add('high');
    text = `${bytes(ns.bytes)} of ${bytes(ns.max_size)} (${pct.toFixed(1)} %)`;
  } else {
    fill.style.width = '0';
    text = `${bytes(ns.bytes)} (no max_size of its own)`;
  }
  bar.append(fill);
  const p = el('p', {}, text + ' · ');
  p.append(el('span', { 'data-k': 'objects', 'data-v': String(ns.objects),
                        text: count(ns.objects) + (ns.objects === 1 ? ' object' : ' objects') }));
  box.append(bar, p);
  return box;
}

function figures(ns) {
  const t = el('table', { class: 'figures' });
  const rows = [
    [['hit ratio', 'hit_ratio', ns.hits + ns.misses ? ns.hits / (ns.hits + ns.misses) : 0,
      ratio(ns.hits, ns.misses)],
     ['requests', 'requests', ns.requests, count(ns.requests)]],
    [['hits', 'hits', ns.hits, count(ns.hits)], ['misses', 'misses', ns.misses, count(ns.misses)]],
    [['PUTs', 'puts', ns.puts, count(ns.puts)],
     ['evictions', 'evictions', ns.evictions, count(ns.evictions)]],
    [['bytes in', 'bytes_in', ns.bytes_in, bytes(ns.bytes_in)],
     ['bytes out', 'bytes_out', ns.bytes_out, bytes(ns.bytes_out)]],
  ];
  for (const r of rows) {
    const tr = el('tr');
    for (const [label, key, v, text] of r) tr.append(el('td', { text: label }), cell(key, v, text));
    t.append(tr);
  }
  return t;
}

function kinds(ns) {
  const t = el('table', { class: 'kinds' });
  t.append(el('tr', {}, el('th', { text: 'kind' }), el('th', { text: 'hits' }),
                        el('th', { text: 'misses' }), el('th', { text: 'hit ratio' })));
  for (const k of KINDS) {
    const f = ns.kinds[k] || { hits: 0, misses: 0 };
    const tr = el('tr', { 'data-kind': k }, el('td', { text: k }));
    tr.append(cell('hits', f.hits, count(f.hits)), cell('misses', f.misses, count(f.misses)),
              el('td', { text: ratio(f.hits, f.misses) }));
    t.append(tr);
  }
  return t;
}

function tiers(list) {
  const t = el('table', { class: 'tiers' });
  t.append(el('tr', {}, ...['tier', 'state', 'queued', 'errors', 'write errors', 'dropped',
                            'hits', 'misses', 'breaker opened'].map(h => el('th', { text: h }))));
  for (const x of list) {
    const tr = el('tr', { 'data-tier': String(x.tier) });
    tr.append(el('td', { text: `${x.tier}: ${x.type}` }),
              el('td', { 'data-k': 'state', 'data-v': x.state, class: 'state-' + x.state,
                         text: x.state === 'in' ? 'in the path' : 'out (breaker open)' }),
              cell('queued', x.queued, count(x.queued)),
              cell('errors', x.errors, count(x.errors)),
              cell('write_errors', x.write_errors, count(x.write_errors)),
              cell('dropped', x.dropped, count(x.dropped)),
              cell('hits', x.hits, count(x.hits)), cell('misses', x.misses, count(x.misses)),
              cell('breaker_opened', x.breaker_opened, count(x.breaker_opened)));
    t.append(tr);
  }
  return t;
}

function hhmm(t) {
  const d = new Date(t * 1000);
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// One chart: lines of series [{values, color, label}] over the times t.
// Values may be null (no data: a gap). fmt formats the y-axis figures.
function chart(title, t, series, fmt, fixedMax) {
  const fig = el('figure');
  const legend = el('span', { class: 'legend' });
  for (const s of series) {
    const sw = el('span', { class: 'swatch' });
    sw.style.background = s.color;
    legend.append(el('span', {}, sw, s.label));
  }
  fig.append(el('figcaption', {}, el('span', { text: title }), legend));
  const canvas = el('canvas', { 'data-chart': title, 'data-points': String(t.length) });
  fig.append(canvas);
  pending.push(() => draw(canvas, t, series, fmt, fixedMax));
  return fig;
}

function draw(canvas, t, series, fmt, fixedMax) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 500, h = canvas.clientHeight || 120;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  const left = 58, right = 8, top = 8, bottom = 20;
  const pw = w - left - right, ph = h - top - bottom;
  let max = fixedMax || 0;
  if (!fixedMax)
    for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  if (max <= 0) max = 1;
  g.font = '11px system-ui, "DejaVu Sans", sans-serif';
  g.textBaseline = 'middle';
  g.strokeStyle = '#e3e6eb';
  g.fillStyle = '#5d6675';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    g.beginPath();
    g.moveTo(left, Math.round(y) + 0.5);
    g.lineTo(left + pw, Math.round(y) + 0.5);
    g.stroke();
    g.textAlign = 'right';
    g.fillText(fmt((max * i) / 4), left - 6, y);
  }
  if (t.length === 0) {
    g.textAlign = 'center';
    g.fillText('no samples yet', left + pw / 2, top + ph / 2);
    return;
  }
  const t0 = t[0], t1 = t[t.length - 1];
  const span = t1 > t0 ? t1 - t0 : 1;
  const x = i => (t.length === 1 ? left + pw : left + (pw * (t[i] - t0)) / span);
  const y = v => top + ph - (ph * Math.min(v, max)) / max;
  g.textBaseline = 'alphabetic';
  g.textAlign = 'left';
  g.fillText(hhmm(t0), left, h - 5);
  g.textAlign = 'right';
  g.fillText(hhmm(t1), left + pw, h - 5);
  for (const s of series) {
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    let open = false;
    s.values.forEach((v, i) => {
      if (v === null) { open = false; return; }
      if (open) g.lineTo(x(i), y(v));
      else g.moveTo(x(i), y(v));
      open = true;
    });
    g.stroke();
    s.values.forEach((v, i) => {
      if (v !== null && (s.values.length < 60 || i === s.values.length - 1)) {
        g.beginPath();
        g.arc(x(i), y(v), 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    });
  }
}

function charts(h) {
  const box = el('div', { class: 'charts' });
  const t = h.t || [];
  const dt = i => h.dt[i] || 1;
  const hitRatio = t.map((_, i) => {
    const n = h.hits[i] + h.misses[i];
    return n ? (100 * h.hits[i]) / n : null;
  });
  const reqs = t.map((_, i) => h.requests[i] / dt(i));
  const bin = t.map((_, i) => h.bytes_in[i] / dt(i));
  const bout = t.map((_, i) => h.bytes_out[i] / dt(i));
  const num = v => (v >= 100 ? count(Math.round(v)) : v.toFixed(v >= 10 ? 1 : 2));
  box.append(
    chart('hit ratio', t, [{ values: hitRatio, color: COLORS.ratio, label: 'hits / lookups' }],
          v => v.toFixed(0) + ' %', 100),
    chart('requests/s', t, [{ values: reqs, color: COLORS.req, label: 'requests' }], num),
    chart('bytes/s', t, [{ values: bout, color: COLORS.out, label: 'out' },
                         { values: bin, color: COLORS.in, label: 'in' }], v => bytes(Math.round(v))));
  return box;
}

function render(data) {
  const main = document.getElementById('namespaces');
  const names = Object.keys(data.namespaces).sort();
  const sections = [];
  for (const name of names) {
    const ns = data.namespaces[name];
    const sec = el('section', { class: 'ns', 'data-ns': name, id: 'ns-' + name });
    sec.append(el('h2', { text: name }), quota(ns), figures(ns));
    sec.append(el('h3', { text: 'Hits and misses by kind' }), kinds(ns));
    const own = data.tiers.filter(x => x.namespace === name);
    if (own.length) sec.append(el('h3', { text: 'Remote tiers' }), tiers(own));
    const n = (ns.history.t || []).length;
    sec.append(el('h3', { text: `Last ${n} samples, one every ${data.interval} s` }),
               charts(ns.history));
    sections.push(sec);
  }
  main.replaceChildren(...sections);
  drawn = pending;
  pending = [];
  for (const d of drawn) d();
  const refused = el('span', { class: 'refused' }, 'Refused: ');
  for (const [code, n] of Object.entries(data.refused))
    refused.append(el('span', { 'data-refused': code, text: `${code} × ${count(n)}` }));
  const summary = document.getElementById('summary');
  summary.replaceChildren(
    `cstashd ${data.version} · ${names.length} namespace${names.length === 1 ? '' : 's'} · ` +
    `data dir ${bytes(data.data_dir.bytes)}` +
    (data.data_dir.max_size ? ` of ${bytes(data.data_dir.max_size)}` : '') +
    ` · updated ${hhmm(data.now)} · `, refused);
  document.body.dataset.loaded = String(data.now);
}

async function refresh() {
  const error = document.getElementById('error');
  try {
    // location.origin: never the user:password@ a URL may carry
    const r = await fetch(location.origin + '/_/stats.json',
                          { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) throw new Error(`/_/stats.json answered ${r.status}: ${(await r.text()).trim()}`);
    render(await r.json());
    error.hidden = true;
  } catch (e) {
    error.textContent = String(e.message || e);
    error.hidden = false;
  }
  setTimeout(refresh, REFRESH_MS);
}

window.addEventListener('resize', () => { for (const d of drawn) d(); });
refresh();
