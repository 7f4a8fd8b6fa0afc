import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg } from './chart.js';

test('renderSvg draws a line chart as a standalone SVG with one path per series', async () => {
  const svg = await renderSvg({
    title: 'two series',
    data: { values: [{ x: 0, y: 1, s: 'a' }, { x: 1, y: 2, s: 'a' }, { x: 0, y: 2, s: 'b' }, { x: 1, y: 0, s: 'b' }] },
    mark: 'line',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color: { field: 's', type: 'nominal' } },
  });
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/class="mark-line role-mark marks"/g)?.length, 2, "one line mark per series");
  assert.equal(svg.match(/<path [^>]*d="M/g)!.length >= 2, true);
  assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org)/);
});

test('renderSvg names the chart when the spec is invalid', async () => {
  await assert.rejects(renderSvg({ title: 'broken', data: { values: [] }, mark: 'nosuchmark' }), /chart 'broken'/);
});
