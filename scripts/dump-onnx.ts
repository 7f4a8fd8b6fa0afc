import { readFileSync } from 'node:fs';
import { parseModel } from '../src/onnx/proto.js';
const m = parseModel(readFileSync(process.argv[2]!));
console.log('opsets', [...m.opsets], m.producerName, m.producerVersion, 'ir', m.irVersion);
console.log('inputs', JSON.stringify(m.graph.inputs), 'outputs', JSON.stringify(m.graph.outputs));
for (const n of m.graph.nodes) console.log(n.opType, n.name, JSON.stringify(n.inputs), '->', JSON.stringify(n.outputs), JSON.stringify(Object.fromEntries(Object.entries(n.attrs).map(([k,v])=>[k,v.type==='tensor'?`T${JSON.stringify(v.value.dims)}:${Array.from(v.value.data as any).slice(0,8)}`:v.value]))));
for (const t of m.graph.initializers.values()) console.log('init', t.name, t.dims.join('x'), t.dataType);
