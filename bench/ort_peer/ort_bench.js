// ONNX Runtime (CPU execution provider) throughput of one model, measured like
// `dnnsplit bench`: random inputs (uint8-range integers for float inputs), a warm-up of a fifth
// of the time, then batch calls for --seconds. Prints one JSON object with images_per_s.
// usage: node ort_bench.js MODEL.onnx [--threads N] [--batch B] [--seconds S]
'use strict';
const ort = require('onnxruntime-node');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main() {
  const model = process.argv[2];
  const threads = option('--threads', 1);
  const batch = option('--batch', threads);
  const seconds = option('--seconds', 3);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [index, name] of session.inputNames.entries()) {
    const meta = session.inputMetadata ? session.inputMetadata[index] : null;
    const dims = meta && meta.shape ? meta.shape.map((d, i) => (i === 0 ? batch : Number(d))) : null;
    if (!dims || dims.some((d) => !Number.isFinite(d) || d <= 0)) throw new Error(`input ${name}: no static shape`);
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; ++i) data[i] = Math.floor(Math.random() * 256);
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  const warmEnd = Date.now() + (seconds * 1000) / 5;
  do {
    await session.run(feeds);
  } while (Date.now() < warmEnd);
  const latencies = [];
  const start = process.hrtime.bigint();
  const cpuStart = cpuSeconds();
  let elapsed = 0;
  while (elapsed < seconds || latencies.length === 0) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const t1 = process.hrtime.bigint();
    latencies.push(Number(t1 - t0) / 1e9);
    elapsed = Number(t1 - start) / 1e9;
  }
  const cpu = cpuSeconds() - cpuStart;
  latencies.sort((a, b) => a - b);
  const images = batch * latencies.length;
  const p50 = latencies[Math.floor(latencies.length / 2)];
  console.log(JSON.stringify({
    model, engine: 'onnxruntime-node ' + (ort.env.versions ? ort.env.versions.common : ''), threads, batch,
    seconds: elapsed, images, images_per_s: images / elapsed, images_per_cpu_s: cpu > 0 ? images / cpu : 0,
    images_per_s_at_p50: batch / p50, latency_ms: { p50: 1e3 * p50 },
  }));
}

main().catch((e) => {
  console.error('ort_bench: ' + e.message);
  process.exit(2);
});
