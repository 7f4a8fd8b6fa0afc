import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatDuration, formatField } from './progress.js';

function fakeStream(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns, write: (s: string) => chunks.push(s) } };
}

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('non-TTY: one plain line per 10% of the work, then a final line with rate, elapsed time and fields', () => {
  const { chunks, stream } = fakeStream(false);
  const c = clock();
  const p = new Progress({ total: 50, label: 'epoch 1/3', unit: 'batch', stream, now: c.now, quietMs: 0 });
  for (let i = 0; i < 50; i++) {
    c.advance(200);
    p.tick(1, { loss: 0.693147 - i / 100, acc: i / 50 });
  }
  p.finish({ acc: 0.9 });
  assert.equal(chunks.length, 10, chunks.join(''));
  assert.ok(chunks.every((s) => s.endsWith('\n') && !s.includes('\r') && !s.includes('\x1b')));
  assert.equal(chunks[0], 'epoch 1/3 5/50 (10%) 5.0 batch/s elapsed 0:01 ETA 0:09 loss=0.6531 acc=0.08\n');
  assert.equal(chunks[4], 'epoch 1/3 25/50 (50%) 5.0 batch/s elapsed 0:05 ETA 0:05 loss=0.4531 acc=0.48\n');
  assert.equal(chunks[9], 'epoch 1/3 50/50 (100%) 5.0 batch/s elapsed 0:10 loss=0.2031 acc=0.9\n');
});

test('non-TTY: a loop shorter than quietMs (5 s) prints only its final line; no rate before 0.2 s', () => {
  const { chunks, stream } = fakeStream(false);
  const c = clock();
  const p = new Progress({ total: 8, label: 'epoch 1/3', unit: 'batch', stream, now: c.now });
  for (let i = 0; i < 8; i++) {
    c.advance(400);
    p.tick();
  }
  p.finish();
  assert.deepEqual(chunks, ['epoch 1/3 8/8 (100%) 2.5 batch/s elapsed 0:03\n']);
  const q = new Progress({ total: 8, stream: fakeStream(true).stream, now: clock().now });
  assert.match(q.text(), /\? it\/s/);
});

test('non-TTY: a slow loop also prints every intervalMs between the 10% marks', () => {
  const { chunks, stream } = fakeStream(false);
  const c = clock();
  const p = new Progress({ total: 1000, stream, now: c.now, intervalMs: 60_000 });
  for (let i = 0; i < 99; i++) {
    c.advance(1000); // 1 s per unit: 10% takes 100 s
    p.tick();
  }
  // 99 s: lines at 60 s only (10% not yet reached).
  assert.deepEqual(chunks, ['60/1000 (6%) 1.0 it/s elapsed 1:00 ETA 15:40\n']);
  c.advance(1000);
  p.tick();
  assert.equal(chunks.length, 2);
  assert.match(chunks[1]!, /^100\/1000 \(10%\) 1\.0 it\/s elapsed 1:40 ETA 15:00\n$/);
});

test('TTY: one line rewritten with \\r, bar and clear-to-end, throttled, clipped to the width, newline at the end', () => {
  const { chunks, stream } = fakeStream(true, 200);
  const c = clock();
  const p = new Progress({ total: 4, label: 'train', stream, now: c.now, barWidth: 8, redrawMs: 100 });
  p.update(0);
  c.advance(50);
  p.tick(1, { loss: 1.25 }); // within 100 ms of the last draw: not drawn
  c.advance(450);
  p.tick(1, { loss: 1 });
  c.advance(500);
  p.finish();
  assert.deepEqual(chunks, [
    '\rtrain [--------] 0/4 (0%) ? it/s elapsed 0:00 ETA ?\x1b[K',
    '\rtrain [####----] 2/4 (50%) 4.0 it/s elapsed 0:01 ETA 0:01 loss=1\x1b[K',
    '\rtrain [####----] 2/4 (50%) 2.0 it/s elapsed 0:01 loss=1\x1b[K',
    '\n',
  ]);
  const narrow = fakeStream(true, 20);
  const q = new Progress({ total: 10, stream: narrow.stream, now: c.now });
  q.tick();
  assert.equal(narrow.chunks[0], `\r[##${'-'.repeat(16)}\x1b[K`); // 19 = columns − 1
});

test('silent prints nothing; updates after finish are ignored; bad totals are errors', () => {
  const { chunks, stream } = fakeStream(false);
  const p = new Progress({ total: 3, stream, silent: true });
  p.tick();
  p.finish();
  assert.equal(chunks.length, 0);
  const q = new Progress({ total: 2, stream, now: () => 0 });
  q.finish();
  q.tick();
  q.finish();
  assert.equal(chunks.length, 1);
  assert.equal(q.done, 0);
  assert.throws(() => new Progress({ total: -1, stream }), /total must be a finite number ≥ 0/);
});

test('durations and fields are formatted compactly', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(61.4), '1:01');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(NaN), '?');
  assert.equal(formatField(0.123456), '0.1235');
  assert.equal(formatField(42), '42');
  assert.equal(formatField(1.5e-5), '1.50e-5');
  assert.equal(formatField('best'), 'best');
});
