// moodreel's page: upload or webcam → POST /api/v1/analyze → boxes and bars; the mood (from
// the photo, corrected, or picked by hand) → POST /api/v1/recommendations as JSON → film cards.
// Changing the mode, the filters or the mood asks for films again without re-uploading.
'use strict';

const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const MAX_BYTES = 15 * 1024 * 1024;
// Photos are made smaller than this (long side, pixels) before they travel: the detector and
// the 48×48 expression model gain nothing from a 12-megapixel original.
const MAX_SIDE = 1600;
// The server's `pipeline::UNCERTAIN_BELOW`: a face read below this is flagged uncertain, and a
// group mood whose top emotion is below it is called mixed rather than named after a plurality.
const UNSURE_BELOW = 0.45;
// In a mixed mood, the emotions named are those with at least this share (at most three).
const MIXED_SHARE = 0.15;
// Typing in a filter asks for films this long after the last key, not at every key.
const TYPING_PAUSE_MS = 400;
// The browser's lists of hidden films (titles as "Title (Year)"), newest last, at most this many.
const STORE = { seen: 'moodreel.seen', notForMe: 'moodreel.notForMe' };
const STORE_LIMIT = 500;

const $ = (id) => document.getElementById(id);
const state = {
  analysis: null,    // the last photo's analysis, as /analyze answered it
  counted: [],       // per face of that photo: whether it counts toward the group mood
  photoMood: null,   // the mood of the counted faces: {angry: p, ..., neutral: p}
  mood: null,        // what films are chosen for: {kind: 'photo' | 'pick' | 'blend', value, words}
  photoUrl: null,    // object URL of the photo shown
  stream: null,      // the webcam's MediaStream while it is on
  cameraTicket: 0,   // bumped by every start and stop: a stream that arrives late is stopped
  photoRequest: 0,   // sequence number of /analyze calls: only the newest may show its answer
  photoAbort: null,  // aborts the /analyze call in flight when a newer photo comes
  request: 0,        // sequence number of /recommendations calls, likewise
  seed: null,        // "show others": a seed that shuffles among near-ties, until the mood changes
  revealFilms: false, // the next film list answers a new photo: bring it into view
  lastHidden: null,  // {list, title} of the last card hidden, for Undo
  typingTimer: 0,
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

/** Every percentage on the page goes through here, so a bar and its label never disagree. */
const percent = (p) => `${Math.round(p * 100)}%`;
const article = (word) => (/^[aeiou]/i.test(word) ? 'an' : 'a');
const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;

function show(node, visible) { node.hidden = !visible; }

function showError(message) {
  $('error').textContent = message;
  show($('error'), Boolean(message));
}

/** Whatever the user does next makes the last error and notices old news. */
function clearMessages() {
  showError('');
  show($('drop-message'), false);
  show($('camera-message'), false);
}

function setBusy(message) {
  $('busy').textContent = message || '';
  show($('busy'), Boolean(message));
  document.body.setAttribute('aria-busy', message ? 'true' : 'false');
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

/** Sends a request and returns its JSON, or throws an Error with a message for a person. */
async function call(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (cause) {
    if (cause && cause.name === 'AbortError') throw cause;
    throw new Error('The moodreel server cannot be reached. Is it still running?');
  }
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = new Error(friendly(response.status, body));
    error.code = body && body.code;
    error.field = body && body.field;
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
    case 'nothing_left': return 'No film fits these filters.';
    default: return detail || `Something went wrong (HTTP ${status}).`;
  }
}

// ---------- moods in words ----------

function ranked(probabilities) {
  return EMOTIONS.map((emotion) => [emotion, probabilities[emotion] || 0])
    .sort((a, b) => b[1] - a[1]);
}

function probabilitiesOf(mood) {
  const probabilities = {};
  for (const emotion of EMOTIONS) probabilities[emotion] = mood[emotion] || 0;
  return probabilities;
}

/**
 * A read mood in words: "happy 69%" when one emotion stands out, else "mixed: happy, sad,
 * fear" (a 27% plurality is not "a happy mood").
 */
function describe(probabilities) {
  const order = ranked(probabilities);
  const [top, p] = order[0];
  if (p >= UNSURE_BELOW) {
    return { mixed: false, short: `${top} ${percent(p)}`, phrase: `${article(top)} ${top} mood (${percent(p)})` };
  }
  let named = order.filter(([, q]) => q >= MIXED_SHARE).slice(0, 3).map(([emotion]) => emotion);
  if (named.length < 2) named = order.slice(0, 2).map(([emotion]) => emotion);
  return { mixed: true, short: `mixed: ${named.join(', ')}`, phrase: `a mixed mood (${named.join(', ')})` };
}

// ---------- the photo ----------

/**
 * The photo as it will travel: smaller than MAX_SIDE on its long side, upright. The browser
 * decodes it with its EXIF orientation applied, so the smaller copy needs none. A photo small
 * enough already, or one the browser cannot read, goes as it is (the server then names the
 * problem).
 */
async function prepareUpload(blob) {
  if (typeof createImageBitmap !== 'function') return blob;
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (_) {
    return blob;
  }
  try {
    const long = Math.max(bitmap.width, bitmap.height);
    if (long <= MAX_SIDE) return blob;
    const scale = MAX_SIDE / long;
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext('2d');
    // JPEG has no transparency: a transparent PNG would turn black without a backdrop.
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const smaller = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    return smaller || blob;
  } finally {
    bitmap.close();
  }
}

async function choosePhoto(blob) {
  clearMessages();
  stopCamera();
  // A newer photo makes every answer still on its way for an older one stale.
  const sequence = ++state.photoRequest;
  state.request += 1;
  if (state.photoAbort) state.photoAbort.abort();
  state.photoAbort = null;
  if (blob.size > MAX_BYTES) {
    forgetPhoto('That file is too large: send a photo of at most 15 MB.');
    setBusy('');
    return;
  }
  const abort = new AbortController();
  state.photoAbort = abort;
  setBusy('Reading your photo…');
  $('results').setAttribute('aria-busy', 'true');
  try {
    const upload = await prepareUpload(blob);
    if (sequence !== state.photoRequest) return;
    const form = new FormData();
    form.append('image', upload, 'photo');
    const analysis = await call('/api/v1/analyze', { method: 'POST', body: form, signal: abort.signal });
    if (sequence !== state.photoRequest) return;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = URL.createObjectURL(upload);
    state.analysis = analysis;
    state.counted = analysis.faces.map(() => true);
    state.photoMood = analysis.faces.length ? groupMood() : null;
    state.seed = null;
    renderAnalysis();
    if (analysis.faces.length === 0) {
      hideConfirm();
      offerPicker('No face found in this photo. Pick a mood instead, or try another photo.');
    } else {
      selectMood('photo');
      askIfUnsure();
      state.revealFilms = true;
      await recommend();
    }
  } catch (error) {
    if (sequence !== state.photoRequest) return;
    forgetPhoto(error.message);
  } finally {
    if (sequence === state.photoRequest) {
      setBusy('');
      state.photoAbort = null;
    }
  }
}

/**
 * A photo that could not be read: say why, and take away the previous photo and the films
 * read from it, which would otherwise pass for the answer to this one.
 */
function forgetPhoto(message) {
  showError(message);
  show($('analysis'), false);
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photoUrl = null;
  state.analysis = null;
  state.photoMood = null;
  show($('chip-photo'), false);
  hideConfirm();
  if (!state.mood || state.mood.kind !== 'pick') {
    state.mood = null;
    document.querySelectorAll('input[name="mood"]').forEach((input) => { input.checked = false; });
    clearFilms('Choose another photo or pick a mood to see films.');
  } else {
    $('results').setAttribute('aria-busy', 'false');
  }
}

/** The face-area-weighted mean of the counted faces' readings, as the server makes it. */
function groupMood() {
  const { faces, mood } = state.analysis;
  if (state.counted.every(Boolean) && mood) return probabilitiesOf(mood);
  const sum = Object.fromEntries(EMOTIONS.map((emotion) => [emotion, 0]));
  let total = 0;
  faces.forEach((face, index) => {
    if (!state.counted[index]) return;
    const weight = Math.max(1, face.box.w * face.box.h);
    total += weight;
    for (const emotion of EMOTIONS) sum[emotion] += weight * (face.probabilities[emotion] || 0);
  });
  for (const emotion of EMOTIONS) sum[emotion] /= total;
  return sum;
}

function faceWords(face) {
  const p = face.probabilities[face.emotion];
  return `${face.emotion} ${percent(p)}${face.uncertain ? '?' : ''}`;
}

function renderAnalysis() {
  const analysis = state.analysis;
  show($('analysis'), true);
  const img = $('photo');
  img.src = state.photoUrl;
  const frame = $('photo-frame');
  frame.querySelectorAll('.face-box').forEach((box) => box.remove());
  $('faces').replaceChildren();
  document.body.classList.add('has-photo');
  $('drop-title').textContent = 'Another photo';
  const count = analysis.faces.length;
  const group = count > 1;
  img.alt = count === 0
    ? 'Your photo; no face found'
    : `Your photo with ${plural(count, 'face')} marked`;

  analysis.faces.forEach((face, index) => {
    const { x, y, w, h } = face.box;
    const classes = ['face-box'];
    if (face.uncertain) classes.push('uncertain');
    // No room for the label above a face at the top edge: it goes inside the box instead,
    // never below it, where it could cover the caption.
    if (y < analysis.height * 0.08) classes.push('inside');
    if (x + w / 2 > analysis.width / 2) classes.push('right');
    const label = el('span', { class: 'face-label', text: `${index + 1} · ${faceWords(face)}` });
    // A group's boxes are toggle buttons named by their visible label, plus what it means.
    const box = group
      ? el('button', { type: 'button', class: classes.join(' '), 'data-face': index }, label,
        el('span', { class: 'visually-hidden face-state' }))
      : el('div', { class: classes.join(' '), 'aria-hidden': 'true' }, label);
    box.style.left = `${(100 * x) / analysis.width}%`;
    box.style.top = `${(100 * y) / analysis.height}%`;
    box.style.width = `${(100 * w) / analysis.width}%`;
    box.style.height = `${(100 * h) / analysis.height}%`;
    if (group) box.addEventListener('click', () => toggleFace(index));
    frame.append(box);
  });

  show($('legend'), count > 0);
  show($('legend-tap'), group);
  renderFaces();
}

/** The faces' one-line summaries (bars folded in), the group line, and the boxes' states. */
function renderFaces() {
  const analysis = state.analysis;
  const count = analysis.faces.length;
  const countedCount = state.counted.filter(Boolean).length;
  $('photo-caption').textContent = count === 0
    ? `No face found (${analysis.width}×${analysis.height} pixels).`
    : count === 1 ? '1 face found.'
      : `${count} faces found; ${countedCount === count ? 'all count' : `${countedCount} of ${count} count`} toward the group mood.`;

  $('photo-frame').querySelectorAll('button.face-box').forEach((box) => {
    const index = Number(box.dataset.face);
    const face = analysis.faces[index];
    const counted = state.counted[index];
    box.classList.toggle('left-out', !counted);
    box.setAttribute('aria-pressed', counted ? 'true' : 'false');
    box.querySelector('.face-label').textContent = counted ? `${index + 1} · ${faceWords(face)}` : `${index + 1} · left out`;
    box.querySelector('.face-state').textContent = counted
      ? `: face ${index + 1}${face.uncertain ? ', uncertain' : ''}, counts toward the group mood`
      : `: face ${index + 1}, ${faceWords(face)}, left out of the group mood`;
  });

  const faces = $('faces');
  const open = new Set([...faces.querySelectorAll('details[open]')].map((node) => node.id));
  faces.replaceChildren();
  analysis.faces.forEach((face, index) => {
    const id = `face-${index + 1}`;
    faces.append(el('details', { class: `face${state.counted[index] ? '' : ' left-out'}`, id, open: open.has(id) },
      el('summary', {},
        el('span', { class: 'face-name', text: `Face ${index + 1}: ${face.emotion} ${percent(face.probabilities[face.emotion])}` }),
        face.uncertain ? el('span', { class: 'flag', text: ' (uncertain)' }) : null,
        state.counted[index] ? null : el('span', { class: 'flag', text: ' · left out' }),
        el('span', { class: 'more', text: 'details' })),
      bars(face.probabilities)));
  });
  if (count > 1 && state.photoMood) {
    const words = describe(state.photoMood);
    const who = countedCount === count ? `${count} faces` : `${countedCount} of ${count} faces`;
    faces.append(el('details', { class: 'face group', id: 'group', open: open.has('group') },
      el('summary', {},
        el('span', { class: 'group-mood', id: 'group-mood', text: `Group mood (${who}): ${words.short}` }),
        el('span', { class: 'more', text: 'details' })),
      bars(state.photoMood)));
  }
}

function toggleFace(index) {
  const countedCount = state.counted.filter(Boolean).length;
  if (state.counted[index] && countedCount === 1) {
    $('photo-caption').textContent = 'At least one face has to count. Tap another face to count it first.';
    return;
  }
  clearMessages();
  state.counted[index] = !state.counted[index];
  state.photoMood = groupMood();
  renderFaces();
  if (!state.mood || state.mood.kind === 'photo') {
    selectMood('photo');
    askIfUnsure();
    recommend();
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

// ---------- asking when the reading is uncertain ----------

/**
 * An uncertain reading is right only about a third of the time: ask before going on with it,
 * offering its two most likely moods, a blend of them, or the picker.
 */
function askIfUnsure() {
  const counted = state.analysis.faces.filter((_, index) => state.counted[index]);
  const order = ranked(state.photoMood);
  const unsure = counted.length === 1 ? counted[0].uncertain : order[0][1] < UNSURE_BELOW;
  if (!unsure) {
    hideConfirm();
    return;
  }
  const [[first, p1], [second, p2]] = order;
  const who = counted.length === 1 ? 'You look' : 'Together you look';
  $('confirm-question').replaceChildren(`${who} `, el('strong', { text: first }),
    ` (${percent(p1)}), or perhaps ${second} (${percent(p2)}) — right?`);
  const blend = { [first]: p1 / (p1 + p2), [second]: p2 / (p1 + p2) };
  const answer = (text, action) => {
    const button = el('button', { type: 'button', class: 'secondary', text });
    button.addEventListener('click', () => { clearMessages(); hideConfirm(); action(); });
    return button;
  };
  $('confirm-actions').replaceChildren(
    answer(`Yes, ${first}`, () => pickMood(first)),
    answer(`No, ${second}`, () => pickMood(second)),
    answer(`Both: ${first} and ${second}`, () => {
      document.querySelectorAll('input[name="mood"]').forEach((input) => { input.checked = false; });
      state.mood = { kind: 'blend', value: blend, words: `a mix of ${first} and ${second}` };
      state.seed = null;
      recommend();
    }),
    answer('Something else…', () => {
      const chip = document.querySelector('#mood-chips label:not([hidden]) input');
      $('picker').scrollIntoView({ block: 'center', behavior: reducedMotion() ? 'auto' : 'smooth' });
      if (chip) chip.focus({ preventScroll: true });
    }));
  show($('confirm'), true);
}

function hideConfirm() {
  show($('confirm'), false);
  $('confirm-actions').replaceChildren();
}

// ---------- the webcam ----------

async function startCamera() {
  clearMessages();
  const message = $('camera-message');
  // A second press while the camera is on (or starting) must not open a second stream.
  if (state.stream) {
    $('camera-snap').focus();
    return;
  }
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    message.textContent = 'The webcam works only when this page is opened on localhost or over HTTPS. Choose a photo instead.';
    show(message, true);
    return;
  }
  if ($('camera-start').getAttribute('aria-busy') === 'true') return;
  const ticket = ++state.cameraTicket;
  $('camera-start').setAttribute('aria-busy', 'true');
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (error) {
    if (ticket !== state.cameraTicket) return;
    message.textContent = error && error.name === 'NotAllowedError'
      ? 'The webcam was not allowed. Allow it in the browser, or choose a photo instead.'
      : 'No webcam could be opened. Choose a photo instead.';
    show(message, true);
    return;
  } finally {
    $('camera-start').removeAttribute('aria-busy');
  }
  // Cancelled (or a photo chosen) while the browser was still opening the camera.
  if (ticket !== state.cameraTicket) {
    stream.getTracks().forEach((track) => track.stop());
    return;
  }
  state.stream = stream;
  const video = $('camera-video');
  video.srcObject = stream;
  show($('camera'), true);
  await video.play().catch(() => {});
  $('camera-snap').focus();
}

function stopCamera() {
  state.cameraTicket += 1;
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
  canvas.toBlob((blob) => { if (blob) choosePhoto(blob); }, 'image/jpeg', 0.92);
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
  clearFilms(note || 'Pick a mood to see films.');
  const first = document.querySelector('#mood-chips label:not([hidden]) input');
  if (first) first.focus();
}

function clearFilms(message) {
  state.request += 1;
  $('films').replaceChildren();
  show($('results-actions'), false);
  show($('nothing'), false);
  $('results-status').textContent = message;
  $('results').setAttribute('aria-busy', 'false');
}

/** Makes `value` ('photo' or an emotion) the mood films are chosen for. */
function selectMood(value) {
  show($('chip-photo'), Boolean(state.photoMood));
  const input = document.querySelector(`input[name="mood"][value="${value}"]`);
  if (input) input.checked = true;
  state.mood = value === 'photo'
    ? { kind: 'photo', value: state.photoMood, words: describe(state.photoMood).phrase }
    : { kind: 'pick', value, words: `${article(value)} ${value} mood` };
  show($('picker-note'), false);
}

function pickMood(value) {
  selectMood(value);
  state.seed = null;
  // A mood picked by hand, "From the photo" included, answers the question.
  hideConfirm();
  recommend();
}

// ----- the browser's lists of films seen or not wanted -----

function readList(key) {
  try {
    const list = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(list) ? list.filter((item) => typeof item === 'string') : [];
  } catch (_) {
    return [];
  }
}

function writeList(key, list) {
  try {
    localStorage.setItem(key, JSON.stringify(list.slice(-STORE_LIMIT)));
  } catch (_) {
    // Storage off or full: the choice holds until the page is closed, no longer.
  }
}

const hiddenTitles = () => [...readList(STORE.seen), ...readList(STORE.notForMe)];
const titleKey = (movie) => (movie.year ? `${movie.title} (${movie.year})` : movie.title);

function hideFilm(movie, key) {
  const title = titleKey(movie);
  const list = readList(key).filter((item) => item !== title);
  list.push(title);
  writeList(key, list);
  state.lastHidden = { key, title };
  updateHiddenNote(`“${movie.title}” hidden (${key === STORE.seen ? 'seen it' : 'not for me'}).`);
  $('hidden-undo').focus();
  recommend();
}

function updateHiddenNote(lead = '') {
  const count = hiddenTitles().length;
  show($('hidden-films'), count > 0 || Boolean(lead));
  show($('hidden-undo'), Boolean(state.lastHidden));
  show($('hidden-clear'), count > 0);
  const total = count === 0 ? '' : `${plural(count, 'film')} hidden in all: seen, or not for you.`;
  $('hidden-note').textContent = [lead, total].filter(Boolean).join(' ');
}

// ----- filters -----

const NUMBER_FIELDS = ['min_year', 'max_year', 'min_rating', 'max_runtime', 'n'];

/** A problem with the filters as typed, in words, or '' when they can be sent. */
function filterProblem() {
  const form = $('filter-form');
  const field = (name) => form.elements.namedItem(name);
  for (const name of NUMBER_FIELDS) field(name).removeAttribute('aria-invalid');
  const labels = { min_year: 'From year', max_year: 'To year', min_rating: 'Rated at least', max_runtime: 'At most (minutes)', n: 'Films' };
  for (const name of NUMBER_FIELDS) {
    const input = field(name);
    if (input.validity.valid) continue;
    input.setAttribute('aria-invalid', 'true');
    const whole = name !== 'min_rating';
    return `“${labels[name]}” takes ${whole ? 'a whole number' : 'a number'} from ${input.min} to ${input.max}.`;
  }
  const from = field('min_year').valueAsNumber;
  const to = field('max_year').valueAsNumber;
  if (Number.isFinite(from) && Number.isFinite(to) && from > to) {
    field('min_year').setAttribute('aria-invalid', 'true');
    field('max_year').setAttribute('aria-invalid', 'true');
    return `“From year” (${from}) is after “To year” (${to}): swap them or change one.`;
  }
  return '';
}

function typedTitles() {
  return String($('filter-form').elements.namedItem('exclude_titles').value || '')
    .split('\n').map((title) => title.trim()).filter(Boolean);
}

/** How many filters are set (the number of films asked for is not a filter). */
function activeFilterCount() {
  const form = $('filter-form');
  let count = 0;
  for (const name of ['min_year', 'max_year', 'min_rating', 'max_runtime']) {
    if (String(form.elements.namedItem(name).value).trim() !== '') count += 1;
  }
  if (form.querySelector('input[name="genres"]:checked')) count += 1;
  if (form.querySelector('input[name="exclude_genres"]:checked')) count += 1;
  if ($('family').checked) count += 1;
  if (typedTitles().length) count += 1;
  return count;
}

/** A genre wanted cannot also be unwanted: ticking one side disables the other. */
function syncGenres() {
  for (const input of document.querySelectorAll('#filter-form input[name="genres"], #filter-form input[name="exclude_genres"]')) {
    const otherName = input.name === 'genres' ? 'exclude_genres' : 'genres';
    const other = document.querySelector(`#filter-form input[name="${otherName}"][value="${CSS.escape(input.value)}"]`);
    if (!other) continue;
    input.disabled = other.checked;
    input.closest('label').title = other.checked
      ? `${input.value} is already in “${otherName === 'genres' ? 'Only these genres' : 'Not these genres'}”`
      : '';
  }
}

function filtersChanged() {
  clearTimeout(state.typingTimer);
  syncGenres();
  const count = activeFilterCount();
  $('filter-count').textContent = count ? `· ${count} on` : '';
  show($('filter-count'), count > 0);
  const problem = filterProblem();
  $('year-error').textContent = problem;
  show($('year-error'), Boolean(problem));
  if (problem) return;
  clearMessages();
  recommend();
}

function requestBody() {
  const form = $('filter-form');
  const body = {
    mood: state.mood.value,
    mode: document.querySelector('input[name="mode"]:checked').value,
  };
  for (const name of NUMBER_FIELDS) {
    const value = form.elements.namedItem(name).valueAsNumber;
    if (Number.isFinite(value)) body[name] = value;
  }
  const genres = [...form.querySelectorAll('input[name="genres"]:checked')].map((input) => input.value);
  const excluded = [...form.querySelectorAll('input[name="exclude_genres"]:checked')].map((input) => input.value);
  if (genres.length) body.genres = genres;
  if (excluded.length) body.exclude_genres = excluded;
  // Sent only when on, so a server without the switch still answers everyone else.
  if ($('family').checked) body.family = true;
  const titles = [...typedTitles(), ...hiddenTitles()];
  if (titles.length) body.exclude_titles = titles;
  if (state.seed !== null) body.seed = state.seed;
  return body;
}

async function recommend() {
  if (!state.mood) return;
  const problem = filterProblem();
  if (problem) {
    $('results-status').textContent = `Fix the filters first: ${problem}`;
    return;
  }
  const sequence = ++state.request;
  const status = $('results-status');
  status.textContent = 'Finding films…';
  show($('nothing'), false);
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
    show($('results-actions'), false);
    if (error.code === 'nothing_left' && error.field) explainNothingLeft(error.field);
    else status.textContent = error.message;
  } finally {
    if (sequence === state.request) {
      $('results').setAttribute('aria-busy', 'false');
      if (state.revealFilms) {
        state.revealFilms = false;
        revealResults();
      }
    }
  }
}

/** A filter's value in plain words, and how to take it away. */
function filterInWords(field) {
  const form = $('filter-form');
  const value = (name) => String(form.elements.namedItem(name).value).trim();
  const ticked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
  const clearNumber = (name) => () => { form.elements.namedItem(name).value = ''; };
  const untick = (name) => () => form.querySelectorAll(`input[name="${name}"]:checked`).forEach((input) => { input.checked = false; });
  switch (field) {
    case 'min_year': return { words: `from ${value('min_year')} on`, remove: clearNumber('min_year') };
    case 'max_year': return { words: `up to ${value('max_year')}`, remove: clearNumber('max_year') };
    case 'min_rating': return { words: `rated at least ${value('min_rating')}`, remove: clearNumber('min_rating') };
    case 'max_runtime': return { words: `at most ${value('max_runtime')} minutes`, remove: clearNumber('max_runtime') };
    case 'genres': return { words: `only ${ticked('genres').join(' or ')}`, remove: untick('genres') };
    case 'exclude_genres': return { words: `not ${ticked('exclude_genres').join(' or ')}`, remove: untick('exclude_genres') };
    case 'family': case 'max_age': return { words: 'family films only', remove: () => { $('family').checked = false; } };
    case 'exclude_titles': return {
      words: 'leaving out the films you have seen or hidden',
      remove: () => {
        form.elements.namedItem('exclude_titles').value = '';
        writeList(STORE.seen, []);
        writeList(STORE.notForMe, []);
        state.lastHidden = null;
        updateHiddenNote();
      },
    };
    default: return { words: field, remove: null };
  }
}

function explainNothingLeft(field) {
  const { words, remove } = filterInWords(field);
  $('results-status').textContent = 'No film fits these filters.';
  const others = activeFilterCount() > 1 ? ', on top of the other filters' : '';
  $('nothing-text').textContent = `No film is left once “${words}” applies${others}.`;
  const button = $('nothing-remove');
  button.textContent = `Remove “${words}”`;
  show(button, Boolean(remove));
  button.onclick = () => {
    remove();
    filtersChanged();
    $('results-heading').focus();
  };
  show($('nothing'), true);
}

const MODE_WORDS = { match: 'matching', lift: 'to lift', auto: 'for' };

function renderFilms(list) {
  const films = $('films');
  films.replaceChildren(...list.movies.map(filmCard));
  show($('results-actions'), list.movies.length > 0);
  show($('nothing'), false);
  const words = state.mood ? state.mood.words : `${article(list.mood.emotion)} ${list.mood.emotion} mood`;
  $('results-status').textContent =
    `${plural(list.movies.length, 'film')} ${MODE_WORDS[list.mode] || 'for'} ${words}, mode ${list.mode}.` +
    (state.seed !== null ? ' Shuffled among close matches.' : '');
}

function filmCard(movie) {
  const facts = [movie.genres.join(', ')];
  if (movie.runtime_min) facts.push(`${movie.runtime_min} min`);
  if (movie.certificate) facts.push(movie.certificate);
  if (Number.isInteger(movie.min_age)) facts.push(movie.min_age === 0 ? 'all ages' : `ages ${movie.min_age}+`);
  if (movie.rating) facts.push(`★ ${movie.rating.toFixed(1)}`);
  const people = [];
  if (movie.director) people.push(`Directed by ${movie.director}`);
  if (movie.stars && movie.stars.length) people.push(`with ${movie.stars.join(', ')}`);
  const synopsis = typeof movie.synopsis === 'string' && movie.synopsis.trim() ? movie.synopsis.trim() : null;
  const action = (text, key) => {
    const button = el('button', { type: 'button', class: 'secondary small', text, 'aria-label': `${text}: ${movie.title}` });
    button.addEventListener('click', () => hideFilm(movie, key));
    return button;
  };
  return el('li', { class: 'film' },
    poster(movie),
    el('div', { class: 'film-body' },
      el('h3', {}, movie.title, movie.year ? el('span', { class: 'year', text: ` (${movie.year})` }) : null),
      el('p', { class: 'facts', text: facts.join(' · ') }),
      synopsis ? el('p', { class: 'synopsis', text: synopsis }) : null,
      people.length ? el('p', { class: 'people', text: people.join(' ') }) : null,
      el('ul', { class: 'reasons', 'aria-label': 'Why' }, ...movie.reasons.map((reason) => el('li', { text: reason }))),
      el('div', { class: 'card-actions' }, action('Seen it', STORE.seen), action('Not for me', STORE.notForMe))));
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

/**
 * After a new photo, the answer comes into view: the question when the reading is uncertain,
 * else the films. Focus goes there too, so keyboard and screen-reader users land on it.
 */
function revealResults() {
  const asking = !$('confirm').hidden;
  const target = asking ? $('confirm-actions').querySelector('button') : $('results-heading');
  if (!target) return;
  target.focus({ preventScroll: true });
  const first = $('films').querySelector('.film') || $('results-status');
  const top = (asking ? $('confirm') : $('results-heading')).getBoundingClientRect().top;
  const bottom = first.getBoundingClientRect().top + Math.min(120, first.getBoundingClientRect().height);
  if (top >= 0 && bottom <= window.innerHeight) return;
  // Scrolled to the photo's caption when the reading fits in view with the first film (on a
  // phone, the films come right under the photo), else to the films' heading.
  const caption = $('photo-caption');
  const fromCaption = bottom - caption.getBoundingClientRect().top;
  const anchor = !$('analysis').hidden && fromCaption <= window.innerHeight ? caption : $('results');
  anchor.scrollIntoView({ block: 'start', behavior: reducedMotion() ? 'auto' : 'smooth' });
}

// ---------- wiring ----------

async function loadGenres() {
  try {
    const doc = await call('/api/v1/openapi.json');
    const genres = doc.components.schemas.Genre.enum;
    for (const [container, name] of [['genres-include', 'genres'], ['genres-exclude', 'exclude_genres']]) {
      $(container).replaceChildren(...genres.map((genre) => el('label', { class: 'chip' },
        el('input', { type: 'checkbox', name, value: genre }), el('span', { text: genre }))));
    }
  } catch (_) {
    // Without the list there are no genre filters; everything else works.
  }
}

/** Where the photo goes, said truthfully: this computer, or the server the page came from. */
function describeWhere() {
  const host = location.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
  if (local) return;
  $('privacy').textContent = `Your photo goes to the moodreel server at ${location.host}, is analysed there in memory and never stored.`;
  $('footer-privacy').textContent = `This page comes from the moodreel server at ${location.host}: photos you choose are sent to it over the network.`;
  $('about-privacy').textContent = `Your photo is sent to ${location.host}, read in memory there and never stored. ` +
    'What you mark “seen it” or “not for me” stays in this browser and is only sent with the request for films, to leave those out.';
}

function wireDrops() {
  const overlay = $('drop-overlay');
  let depth = 0;
  const carriesFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes('Files');
  window.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    show(overlay, true);
    $('dropzone').classList.add('dragging');
  });
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) {
      show(overlay, false);
      $('dropzone').classList.remove('dragging');
    }
  });
  // A photo dropped anywhere is read; the browser must not navigate away to it.
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    show(overlay, false);
    $('dropzone').classList.remove('dragging');
    const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (!files.length) return;
    choosePhoto(files[0]);
    if (files.length > 1) {
      const message = $('drop-message');
      message.textContent = `You dropped ${files.length} files; moodreel reads one photo at a time, so it read the first, “${files[0].name}”.`;
      show(message, true);
    }
  });
}

function wire() {
  const file = $('file');
  file.addEventListener('change', () => {
    if (file.files && file.files[0]) choosePhoto(file.files[0]);
    file.value = '';
  });
  wireDrops();

  $('camera-start').addEventListener('click', startCamera);
  $('camera-stop').addEventListener('click', () => { stopCamera(); $('camera-start').focus(); });
  $('camera-snap').addEventListener('click', snapPhoto);

  document.querySelectorAll('input[name="mood"]').forEach((input) => {
    input.addEventListener('change', () => { clearMessages(); pickMood(input.value); });
  });
  document.querySelectorAll('input[name="mode"]').forEach((input) => {
    input.addEventListener('change', () => { clearMessages(); recommend(); });
  });
  const filters = $('filter-form');
  filters.addEventListener('submit', (event) => { event.preventDefault(); filtersChanged(); });
  filters.addEventListener('reset', () => setTimeout(filtersChanged, 0));
  // Ticks apply at once; typed values after a pause (a number field's own `change` on blur
  // would only ask again for what its typing already asked for).
  filters.addEventListener('change', (event) => { if (event.target.type === 'checkbox') filtersChanged(); });
  filters.addEventListener('input', (event) => {
    if (event.target.type === 'checkbox') return;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(filtersChanged, TYPING_PAUSE_MS);
  });

  $('shuffle').addEventListener('click', () => {
    clearMessages();
    // Any 32-bit number: the server shuffles among near-ties with it.
    state.seed = Math.floor(Math.random() * 0xffffffff);
    recommend();
  });
  $('hidden-undo').addEventListener('click', () => {
    if (!state.lastHidden) return;
    const { key, title } = state.lastHidden;
    writeList(key, readList(key).filter((item) => item !== title));
    state.lastHidden = null;
    updateHiddenNote(`“${title}” is back.`);
    $('results-heading').focus();
    recommend();
  });
  $('hidden-clear').addEventListener('click', () => {
    writeList(STORE.seen, []);
    writeList(STORE.notForMe, []);
    state.lastHidden = null;
    updateHiddenNote('All hidden films are back.');
    $('results-heading').focus();
    recommend();
  });

  describeWhere();
  updateHiddenNote();
  loadGenres();
}

wire();
