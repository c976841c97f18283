// moodreel's page: upload or webcam → POST /api/v1/analyze → boxes and bars; the mood (from
// the photo or picked by hand) → POST /api/v1/recommendations as JSON → film cards.
// Changing the mode, the filters or the mood asks for films again without re-uploading.
'use strict';

const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const MAX_BYTES = 15 * 1024 * 1024;

const $ = (id) => document.getElementById(id);
const state = {
  photoMood: null,   // the group mood read from the photo: {angry: p, ..., neutral: p}
  mood: null,        // the mood films are chosen for (the photo's or a picked one)
  photoUrl: null,    // object URL of the photo shown
  stream: null,      // the webcam's MediaStream while it is on
  request: 0,        // sequence number: a slow answer must not overwrite a newer one
};

// ---------- small helpers ----------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const percent = (p) => `${Math.round(p * 100)}%`;

function show(node, visible) { node.hidden = !visible; }

function showError(message) {
  $('error').textContent = message;
  show($('error'), Boolean(message));
}

function setBusy(message) {
  $('busy').textContent = message || '';
  show($('busy'), Boolean(message));
  document.body.setAttribute('aria-busy', message ? 'true' : 'false');
}

/** Sends a request and returns its JSON, or throws an Error with a message for a person. */
async function call(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (_) {
    throw new Error('The moodreel server cannot be reached. Is it still running?');
  }
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = new Error(friendly(response.status, body));
    error.code = body && body.code;
    throw error;
  }
  return body;
}

/** A friendly sentence for an error answer (problem+json). */
function friendly(status, problem) {
  const detail = problem && problem.detail ? problem.detail : '';
  switch (problem && problem.code) {
    case 'too_large': return 'That file is too large: send a photo of at most 15 MB.';
    case 'not_an_image': return 'That file is not a photo moodreel can read. Try a JPEG, PNG, WebP, GIF or BMP.';
    case 'empty_image': return 'That file is empty. Try another photo.';
    case 'image_too_large': return 'That photo has too many pixels (more than 40 megapixels). Try a smaller one.';
    case 'undecodable_image': return `That photo could not be read (${detail}). Try another one.`;
    case 'overloaded': return 'moodreel is busy reading other photos. Try again in a moment.';
    case 'nothing_left': return `No film fits: ${detail}. Loosen that filter.`;
    default: return detail || `Something went wrong (HTTP ${status}).`;
  }
}

// ---------- the photo ----------

async function analysePhoto(blob) {
  showError('');
  if (blob.size > MAX_BYTES) {
    showError('That file is too large: send a photo of at most 15 MB.');
    return;
  }
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photoUrl = URL.createObjectURL(blob);
  const form = new FormData();
  form.append('image', blob, 'photo');
  setBusy('Reading your photo…');
  try {
    const analysis = await call('/api/v1/analyze', { method: 'POST', body: form });
    renderAnalysis(analysis);
    if (analysis.faces.length === 0) {
      state.photoMood = null;
      offerPicker('No face found in this photo. Pick a mood instead, or try another photo.');
    } else {
      state.photoMood = probabilitiesOf(analysis.mood);
      selectMood('photo');
      await recommend();
    }
  } catch (error) {
    showError(error.message);
  } finally {
    setBusy('');
  }
}

function probabilitiesOf(mood) {
  const probabilities = {};
  for (const emotion of EMOTIONS) probabilities[emotion] = mood[emotion];
  return probabilities;
}

function ranked(probabilities) {
  return EMOTIONS.map((emotion) => [emotion, probabilities[emotion]])
    .sort((a, b) => b[1] - a[1]);
}

function renderAnalysis(analysis) {
  show($('analysis'), true);
  const img = $('photo');
  img.src = state.photoUrl;
  const frame = $('photo-frame');
  frame.querySelectorAll('.face-box').forEach((box) => box.remove());
  const count = analysis.faces.length;
  img.alt = count === 0
    ? 'Your photo; no face found'
    : `Your photo with ${count} face${count === 1 ? '' : 's'} marked`;
  $('photo-caption').textContent = count === 0
    ? `No face found (${analysis.width}×${analysis.height} pixels).`
    : `${count} face${count === 1 ? '' : 's'} found.`;

  analysis.faces.forEach((face, index) => {
    const { x, y, w, h } = face.box;
    const box = el('div', {
      class: `face-box${face.uncertain ? ' uncertain' : ''}${y < analysis.height * 0.08 ? ' top' : ''}`,
      'aria-hidden': 'true',
    }, el('span', { class: 'face-label', text: `${index + 1} · ${face.emotion} ${percent(face.confidence)}${face.uncertain ? '?' : ''}` }));
    box.style.left = `${(100 * x) / analysis.width}%`;
    box.style.top = `${(100 * y) / analysis.height}%`;
    box.style.width = `${(100 * w) / analysis.width}%`;
    box.style.height = `${(100 * h) / analysis.height}%`;
    frame.append(box);
  });

  const faces = $('faces');
  faces.replaceChildren();
  analysis.faces.forEach((face, index) => {
    const heading = el('h3', { id: `face-${index + 1}` },
      `Face ${index + 1}: ${face.emotion} ${percent(face.confidence)}`,
      face.uncertain ? el('span', { class: 'flag', text: ' (uncertain)' }) : null);
    faces.append(el('div', { class: 'face', role: 'group', 'aria-labelledby': `face-${index + 1}` },
      heading, bars(face.probabilities)));
  });
  if (count > 1 && analysis.mood) {
    faces.append(el('div', { class: 'face', role: 'group', 'aria-labelledby': 'group-mood' },
      el('h3', { id: 'group-mood', class: 'group-mood', text: `Group mood: ${analysis.mood.emotion} ${percent(analysis.mood[analysis.mood.emotion])}` }),
      bars(probabilitiesOf(analysis.mood))));
  }
}

/** The seven probabilities as sorted, labelled bars with their percentages. */
function bars(probabilities) {
  const list = el('ul', { class: 'bars' });
  for (const [emotion, p] of ranked(probabilities)) {
    list.append(el('li', { class: 'bar' },
      el('span', { class: 'name', text: emotion }),
      el('meter', { min: 0, max: 1, value: p.toFixed(4), 'aria-label': `${emotion} ${percent(p)}` }),
      el('span', { class: 'pct', text: percent(p) })));
  }
  return list;
}

// ---------- the webcam ----------

async function startCamera() {
  const message = $('camera-message');
  show(message, false);
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    message.textContent = 'The webcam works only when this page is opened on localhost or over HTTPS. Choose a photo instead.';
    show(message, true);
    return;
  }
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (error) {
    message.textContent = error && error.name === 'NotAllowedError'
      ? 'The webcam was not allowed. Allow it in the browser, or choose a photo instead.'
      : 'No webcam could be opened. Choose a photo instead.';
    show(message, true);
    return;
  }
  const video = $('camera-video');
  video.srcObject = state.stream;
  show($('camera'), true);
  await video.play().catch(() => {});
  $('camera-snap').focus();
}

function stopCamera() {
  if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
  state.stream = null;
  $('camera-video').srcObject = null;
  show($('camera'), false);
}

function snapPhoto() {
  const video = $('camera-video');
  if (!video.videoWidth) return;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  stopCamera();
  canvas.toBlob((blob) => { if (blob) analysePhoto(blob); }, 'image/jpeg', 0.92);
  $('camera-start').focus();
}

// ---------- the mood and the films ----------

function offerPicker(note) {
  const noteNode = $('picker-note');
  noteNode.textContent = note || '';
  show(noteNode, Boolean(note));
  show($('chip-photo'), Boolean(state.photoMood));
  document.querySelectorAll('input[name="mood"]').forEach((input) => { input.checked = false; });
  state.mood = null;
  $('films').replaceChildren();
  $('results-status').textContent = note || 'Pick a mood to see films.';
  const first = document.querySelector('#mood-chips label:not([hidden]) input');
  if (first) first.focus();
}

function selectMood(value) {
  show($('chip-photo'), Boolean(state.photoMood));
  const input = document.querySelector(`input[name="mood"][value="${value}"]`);
  if (input) input.checked = true;
  state.mood = value === 'photo' ? state.photoMood : value;
  show($('picker-note'), false);
}

function requestBody() {
  const form = new FormData($('filter-form'));
  const body = {
    mood: state.mood,
    mode: document.querySelector('input[name="mode"]:checked').value,
  };
  const number = (name) => {
    const text = String(form.get(name) || '').trim();
    return text === '' ? undefined : Number(text);
  };
  for (const name of ['min_year', 'max_year', 'min_rating', 'max_runtime', 'n']) {
    const value = number(name);
    if (value !== undefined && Number.isFinite(value)) body[name] = value;
  }
  for (const name of ['genres', 'exclude_genres']) {
    const value = form.get(name);
    if (value) body[name] = [value];
  }
  const seen = String(form.get('exclude_titles') || '').split('\n').map((t) => t.trim()).filter(Boolean);
  if (seen.length) body.exclude_titles = seen;
  return body;
}

async function recommend() {
  if (!state.mood) return;
  const sequence = ++state.request;
  const status = $('results-status');
  status.textContent = 'Finding films…';
  $('results').setAttribute('aria-busy', 'true');
  try {
    const list = await call('/api/v1/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(requestBody()),
    });
    if (sequence !== state.request) return;
    renderFilms(list);
  } catch (error) {
    if (sequence !== state.request) return;
    $('films').replaceChildren();
    status.textContent = error.message;
  } finally {
    if (sequence === state.request) $('results').setAttribute('aria-busy', 'false');
  }
}

const MODE_WORDS = { match: 'matching', lift: 'to lift', auto: 'for' };

function renderFilms(list) {
  const mood = list.mood;
  const films = $('films');
  films.replaceChildren(...list.movies.map(filmCard));
  $('results-status').textContent =
    `${list.movies.length} film${list.movies.length === 1 ? '' : 's'} ${MODE_WORDS[list.mode] || 'for'} ` +
    `a ${mood.emotion} mood (${percent(mood[mood.emotion])}), mode ${list.mode}.`;
}

function filmCard(movie) {
  const facts = [movie.genres.join(', ')];
  if (movie.runtime_min) facts.push(`${movie.runtime_min} min`);
  if (movie.certificate) facts.push(movie.certificate);
  if (movie.rating) facts.push(`★ ${movie.rating.toFixed(1)}`);
  const people = [];
  if (movie.director) people.push(`Directed by ${movie.director}`);
  if (movie.stars && movie.stars.length) people.push(`with ${movie.stars.join(', ')}`);
  return el('li', { class: 'film' },
    poster(movie),
    el('div', {},
      el('h3', {}, movie.title, movie.year ? el('span', { class: 'year', text: ` (${movie.year})` }) : null),
      el('p', { class: 'facts', text: facts.join(' · ') }),
      people.length ? el('p', { class: 'people', text: people.join(' ') }) : null,
      el('ul', { class: 'reasons', 'aria-label': 'Why' }, ...movie.reasons.map((reason) => el('li', { text: reason })))));
}

/**
 * The film's poster when the catalog has an https link to one (the link is the user's catalog
 * data; the page fetches nothing from elsewhere of its own accord), else the placeholder. A
 * poster that fails to load gives way to the placeholder too.
 */
function poster(movie) {
  const link = typeof movie.poster_url === 'string' ? movie.poster_url : '';
  if (!/^https:\/\/./i.test(link)) return placeholderPoster(movie);
  const image = el('img', {
    class: 'poster', src: link, alt: '', 'aria-hidden': 'true',
    loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer',
  });
  image.addEventListener('error', () => image.replaceWith(placeholderPoster(movie)), { once: true });
  return image;
}

/** A placeholder poster: the title's initials on a colour picked from the title. */
function placeholderPoster(movie) {
  let hash = 0;
  for (const char of movie.title) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  const hue = hash % 360;
  const initials = movie.title.split(/\s+/).filter((word) => /^[\p{L}\p{N}]/u.test(word))
    .slice(0, 2).map((word) => word[0].toUpperCase()).join('');
  const node = el('div', { class: 'poster', 'aria-hidden': 'true', text: initials || '?' });
  node.style.background = `linear-gradient(160deg, hsl(${hue} 55% 45%), hsl(${(hue + 40) % 360} 60% 28%))`;
  return node;
}

// ---------- wiring ----------

async function loadGenres() {
  try {
    const doc = await call('/api/v1/openapi.json');
    const genres = doc.components.schemas.Genre.enum;
    for (const select of document.querySelectorAll('select[name="genres"], select[name="exclude_genres"]')) {
      for (const genre of genres) select.append(el('option', { value: genre, text: genre }));
    }
  } catch (_) {
    // Without the list the genre filters stay at "any"; everything else works.
  }
}

function wire() {
  const file = $('file');
  file.addEventListener('change', () => {
    if (file.files && file.files[0]) analysePhoto(file.files[0]);
    file.value = '';
  });

  const zone = $('dropzone');
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add('dragging'); });
  }
  for (const name of ['dragleave', 'drop']) {
    zone.addEventListener(name, () => zone.classList.remove('dragging'));
  }
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    const dropped = event.dataTransfer && event.dataTransfer.files[0];
    if (dropped) analysePhoto(dropped);
  });
  // A photo dropped beside the zone must not make the browser navigate away to it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());

  $('camera-start').addEventListener('click', startCamera);
  $('camera-stop').addEventListener('click', () => { stopCamera(); $('camera-start').focus(); });
  $('camera-snap').addEventListener('click', snapPhoto);

  document.querySelectorAll('input[name="mood"]').forEach((input) => {
    input.addEventListener('change', () => { selectMood(input.value); recommend(); });
  });
  document.querySelectorAll('input[name="mode"]').forEach((input) => {
    input.addEventListener('change', recommend);
  });
  const filters = $('filter-form');
  filters.addEventListener('submit', (event) => { event.preventDefault(); recommend(); });
  filters.addEventListener('reset', () => setTimeout(recommend, 0));
  filters.querySelectorAll('select').forEach((select) => select.addEventListener('change', recommend));

  loadGenres();
}

wire();
