// What the browser tests share: the server, the browser, pages that record their requests and
// errors, accessibility checks (axe-core, run in the page), and images made here.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const binary = process.env.MOODREEL_BIN || path.join(root, 'target', 'release', 'moodreel');
// The development data lives beside the repository (`../shared/data`); MOODREEL_SHARED_DATA
// points elsewhere (a git worktree, for one, has another parent).
const sharedData = process.env.MOODREEL_SHARED_DATA || path.resolve(root, '..', 'shared', 'data');
export const facePhoto = path.join(sharedData, 'photos', 'face_controls', 'images', 'astronaut.png');
export const hasFacePhoto = existsSync(facePhoto);
export const screenshots = path.join(root, 'docs', 'screenshots');
export const FILM_TIMEOUT = 60_000;
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Starts `moodreel serve --port 0 ...args`; resolves to the process and its address. */
export function startServer(args = []) {
  assert.ok(existsSync(binary), `no moodreel binary at ${binary}; build it with cargo build`);
  const child = spawn(binary, ['serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('moodreel serve did not print its address in 60 s')), 60_000);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/http:\/\/[\d.]+:\d+/);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[0] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`moodreel serve exited with ${code}`));
    });
  });
}

export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/**
 * A new page at `url` that records every request and every console error. `bypassCSP` lets the
 * tests add axe-core to the page (the page's own policy allows no script but its own).
 */
export async function openPage(browser, url, { viewport = { width: 1280, height: 900 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce', colorScheme, bypassCSP: true });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(url + '/');
  return { context, page, requests, problems };
}

export async function filmTitles(page) {
  return page.locator('#films .film h3').allTextContents();
}

export async function waitForFilms(page, atLeast = 5) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('#films .film').length >= n
      && document.getElementById('results').getAttribute('aria-busy') !== 'true',
    atLeast, { timeout: FILM_TIMEOUT });
}

/** Waits for the next /recommendations request and returns its JSON body. */
export async function nextRecommendationRequest(page, action) {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/api/v1/recommendations') && r.method() === 'POST', { timeout: FILM_TIMEOUT }),
    action(),
  ]);
  return JSON.parse(request.postData());
}

export function assertOnlyLocal(requests, baseUrl) {
  const elsewhere = requests.filter((url) => !url.startsWith(baseUrl) && !/^(blob|data):/.test(url));
  assert.deepEqual(elsewhere, [], 'the page must not request anything from elsewhere');
}

/** axe-core's WCAG 2.x A and AA rules on the page as it is now: the violations, in short. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  return result.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

/** WCAG contrast ratio of two colours given as `rgb(r, g, b)` / `rgba(...)` strings. */
export function contrast(a, b) {
  const luminance = (text) => {
    const [r, g, bl] = text.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * An /analyze answer for made-up faces, for page logic that must not depend on what the model
 * reads in a real photo: each face `{box: [x, y, w, h], probabilities: {...}}`; the group mood
 * is the area-weighted mean, as the server makes it.
 */
export function analysisOf(width, height, faces) {
  const emotions = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
  const full = (probabilities) => Object.fromEntries(emotions.map((e) => [e, probabilities[e] || 0]));
  const top = (probabilities) => emotions.reduce((best, e) => (probabilities[e] > probabilities[best] ? e : best), emotions[0]);
  const readings = faces.map(({ box: [x, y, w, h], probabilities }) => {
    const p = full(probabilities);
    const emotion = top(p);
    return { box: { x, y, w, h }, score: 9.5, emotion, confidence: p[emotion], uncertain: p[emotion] < 0.45, probabilities: p };
  });
  let mood = null;
  if (readings.length) {
    const total = readings.reduce((sum, face) => sum + face.box.w * face.box.h, 0);
    mood = Object.fromEntries(emotions.map((e) => [e,
      readings.reduce((sum, face) => sum + (face.box.w * face.box.h * face.probabilities[e]) / total, 0)]));
    mood.emotion = top(mood);
  }
  return { width, height, faces: readings, mood };
}

/** Answers the page's /analyze calls with `analysis` instead of the server's reading. */
export async function fakeAnalysis(page, analysis) {
  await page.route('**/api/v1/analyze', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(analysis),
  }));
}

// ---------- a face-free test image, made here ----------

/** A PNG of a smooth colour gradient: an image with certainly no face in it. */
export function gradientPng(width, height) {
  const rows = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x += 1) {
      row[1 + x * 3] = Math.round((255 * x) / width);
      row[2 + x * 3] = Math.round((255 * y) / height);
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * `jpeg` (a baseline JPEG's bytes) with an EXIF block saying "rotate 90° clockwise to show"
 * (orientation 6), put right after the start-of-image marker.
 */
export function withExifOrientation6(jpeg) {
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, // Orientation, SHORT, 1, 6
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, payload, jpeg.subarray(2)]);
}
