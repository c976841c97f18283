// How long the page takes from a chosen file to the films on screen, for a 640×480 photo with
// one face: the time a person waits. Not a test (timings belong in scripts, not assertions).
//
// Run (in tests/browser, after `cargo build --release`):
//   node timing.mjs [RUNS]          (MOODREEL_BIN picks another binary)
// Prints the median, fastest and slowest of RUNS (default 15) uploads, after two warm-up runs,
// measured in the page from the file input's `change` event to the film list being rendered.

import { readFileSync } from 'node:fs';
import { facePhoto, hasFacePhoto, launchBrowser, startServer } from './support.mjs';

const runs = Number(process.argv[2] || 15);
if (!hasFacePhoto) {
  console.log(`skipped: ${facePhoto} is absent (it lives in ../shared)`);
  process.exit(0);
}

const { child, url } = await startServer();
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(() => {
    window.__timings = [];
    document.addEventListener('change', (event) => {
      if (event.target.id !== 'file') return;
      const start = performance.now();
      const observer = new MutationObserver(() => {
        const results = document.getElementById('results');
        if (document.querySelector('#films .film') && results.getAttribute('aria-busy') === 'false') {
          window.__timings.push(performance.now() - start);
          observer.disconnect();
        }
      });
      observer.observe(document.getElementById('results'), { attributes: true, childList: true, subtree: true });
    }, true);
  });
  await page.goto(url + '/');
  // The face photo (512×512) on a grey 640×480 frame, as a JPEG: a webcam-sized photo.
  const photo = Buffer.from(await page.evaluate(async (base64) => {
    const face = new Image();
    face.src = `data:image/png;base64,${base64}`;
    await face.decode();
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const context = canvas.getContext('2d');
    context.fillStyle = '#808080';
    context.fillRect(0, 0, 640, 480);
    context.drawImage(face, 140, 40, 360, 360);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    return [...new Uint8Array(await blob.arrayBuffer())];
  }, readFileSync(facePhoto).toString('base64')));

  for (let i = 0; i < runs + 2; i += 1) {
    const before = await page.evaluate(() => window.__timings.length);
    await page.setInputFiles('#file', { name: 'face.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.waitForFunction((n) => window.__timings.length > n, before, { timeout: 60_000 });
  }
  const timings = (await page.evaluate(() => window.__timings)).slice(2).sort((a, b) => a - b);
  const median = timings[Math.floor(timings.length / 2)];
  console.log(`file → films, 640×480 JPEG with one face, ${timings.length} runs: ` +
    `median ${median.toFixed(1)} ms, fastest ${timings[0].toFixed(1)} ms, slowest ${timings[timings.length - 1].toFixed(1)} ms`);
} finally {
  await browser.close();
  child.kill('SIGTERM');
}
