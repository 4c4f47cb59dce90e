// The draw-a-digit page of `mlp serve`: draws white ink on a black pad (as MNIST's digits are),
// sends the pad as a PNG to /api/predict a moment after each stroke moves, and shows the answer:
// the top class, a bar per class and the image the network saw. A picked or dropped file is sent
// as it is.
"use strict";

const pad = document.getElementById("pad");
const context = pad.getContext("2d");
const hint = document.getElementById("hint");
const frame = document.getElementById("drop");
const prediction = document.getElementById("prediction");
const confidence = document.getElementById("confidence");
const seen = document.getElementById("seen");
const bars = document.getElementById("bars");
const statusLine = document.getElementById("status");

// MNIST's strokes are about a tenth as thick as its digits are tall or more; this suits a digit
// drawn over most of the pad.
const STROKE = pad.width * 0.085;
// How long the pad must stay unchanged before it is sent while a stroke goes on.
const DEBOUNCE_MS = 150;

let inked = false;          // anything drawn since the last clear
let showingPicture = false; // the pad shows an opened file, not a drawing
let drawing = null;         // the pointer drawing now, and where it was
let timer = null;
let sending = false;
let sendAgain = false;
let rows = [];              // one bar per class: {name, fill, value}

function clearPad() {
  context.fillStyle = "#000";
  context.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  showingPicture = false;
  hint.classList.remove("gone");
}

function resetResult() {
  prediction.textContent = "–";
  prediction.classList.add("empty");
  delete prediction.dataset.class;
  confidence.innerHTML = "&nbsp;";
  seen.removeAttribute("src");
  for (const row of rows) {
    row.item.classList.remove("top");
    row.fill.style.width = "0";
    row.value.textContent = "";
  }
  say("");
}

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// Where a pointer event falls in the pad's own pixels, whatever size the pad is shown at.
function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return {
    x: ((event.clientX - box.left) * pad.width) / box.width,
    y: ((event.clientY - box.top) * pad.height) / box.height,
  };
}

function stroke(from, to) {
  context.strokeStyle = "#fff";
  context.lineWidth = STROKE;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.beginPath();
  context.moveTo(from.x, from.y);
  context.lineTo(to.x, to.y);
  context.stroke();
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  if (showingPicture) clearPad();
  const point = padPoint(event);
  drawing = { id: event.pointerId, last: point };
  stroke(point, point);
  inked = true;
  hint.classList.add("gone");
  schedule(DEBOUNCE_MS);
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing || event.pointerId !== drawing.id) return;
  event.preventDefault();
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) {
    const point = padPoint(e);
    stroke(drawing.last, point);
    drawing.last = point;
  }
  schedule(DEBOUNCE_MS);
});

function endStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  drawing = null;
  schedule(0);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => {
  clearTimeout(timer);
  clearPad();
  resetResult();
});

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(sendPad, delay);
}

// One request at a time: a change made while one is out is sent when it is answered.
async function sendPad() {
  if (!inked || showingPicture) return;
  if (sending) {
    sendAgain = true;
    return;
  }
  sending = true;
  const png = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
  await predict(png);
  sending = false;
  if (sendAgain) {
    sendAgain = false;
    sendPad();
  }
}

async function predict(body) {
  try {
    const response = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body,
    });
    const answer = await response.json();
    if (!response.ok) {
      say(answer.error || `the server answered ${response.status}`, true);
      return;
    }
    show(answer);
  } catch (error) {
    say(`no answer from the server (${error.message})`, true);
  }
}

function show(answer) {
  const top = answer.top[0];
  const key = "probability" in top ? "probability" : "output";
  prediction.textContent = top.name ?? String(top.class);
  prediction.classList.remove("empty");
  prediction.dataset.class = String(top.class);
  confidence.textContent =
    key === "probability" ? `${(100 * top.probability).toFixed(1)}% sure` : `output ${top.output.toFixed(3)}`;
  seen.src = answer.seen;
  const largest = Math.max(...answer.top.map((t) => Math.abs(t[key])), 1e-12);
  for (const t of answer.top) {
    const row = rows[t.class];
    if (!row) continue;
    const share = key === "probability" ? t.probability : Math.max(t.output, 0) / largest;
    row.item.classList.toggle("top", t.class === top.class);
    row.fill.style.width = `${(100 * Math.min(Math.max(share, 0), 1)).toFixed(1)}%`;
    row.value.textContent = key === "probability" ? `${(100 * t.probability).toFixed(1)}%` : t.output.toFixed(3);
  }
  say(answer.inverted ? "dark ink on light paper: inverted, as MNIST's digits are light on dark" : "");
}

function buildBars(classes) {
  bars.replaceChildren();
  rows = classes.map((name) => {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.className = "class-name";
    label.textContent = name;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    item.append(label, track, value);
    bars.append(item);
    return { item, fill, value };
  });
}

// A picked or dropped file: shown on the pad, sent as it is (the server makes it MNIST-style).
async function openPicture(file) {
  if (!file) return;
  clearTimeout(timer);
  clearPad();
  showingPicture = true;
  hint.classList.add("gone");
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    context.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  } catch (error) {
    // The browser cannot show it (a PGM, say); the server may still read it.
  }
  await predict(file);
}

document.getElementById("file").addEventListener("change", (event) => {
  openPicture(event.target.files[0]);
  event.target.value = "";
});

frame.addEventListener("dragover", (event) => {
  event.preventDefault();
  frame.classList.add("dropping");
});
frame.addEventListener("dragleave", () => frame.classList.remove("dropping"));
frame.addEventListener("drop", (event) => {
  event.preventDefault();
  frame.classList.remove("dropping");
  openPicture(event.dataTransfer.files[0]);
});

function share(accuracy) {
  return `${((100 * accuracy.correct) / accuracy.total).toFixed(2)}%`;
}

function counted(accuracy) {
  return `${accuracy.correct}/${accuracy.total} (${share(accuracy)})`;
}

function scaling(input) {
  if (input.scaling === "standard") return `(pixel/255 − ${input.mean.toFixed(4)}) / ${input.std.toFixed(4)}`;
  return "pixel/255";
}

function describe(summary) {
  const layers = summary.layers;
  const shape = [layers[0].inputs, ...layers.map((l) => `${l.outputs} ${l.activation}`)].join(" → ");
  const spec = summary.training.spec;
  const state = summary.state;
  const entries = [
    ["data set", `${summary.dataset.title}, ${summary.dataset.classes.length} classes`],
    ["layers", shape],
    ["parameters", summary.parameters.toLocaleString("en")],
    ["loss", `${summary.loss} on ${summary.output_activation} outputs`],
    ["input", `${summary.input.rows}×${summary.input.cols} pixels, ${scaling(summary.input)}`],
  ];
  if (spec) {
    const length = spec.steps ? `${spec.steps} updates` : `${spec.epochs} epochs`;
    entries.push(["training", `${spec.optimizer.name}, lr ${spec.schedule.lr}, batch ${spec.batch_size}, ${length}`]);
  }
  entries.push(["run", `${state.status}${state.epochs_done != null ? `, ${state.epochs_done} of ${state.epochs} epochs` : ""}`]);
  if (state.test_accuracy) entries.push(["test accuracy", counted(state.test_accuracy)]);
  entries.push(["file", `${summary.file}${summary.checksum_verifies ? "" : " (checksum does NOT verify)"}`]);
  const list = document.getElementById("summary");
  list.replaceChildren();
  for (const [term, text] of entries) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = text;
    list.append(dt, dd);
  }
  const accuracy = state.test_accuracy ? ` · ${share(state.test_accuracy)} on the test set` : "";
  document.getElementById("model-line").textContent =
    `${summary.dataset.title} · ${[layers[0].inputs, ...layers.map((l) => l.outputs)].join("-")}${accuracy}`;
}

async function start() {
  clearPad();
  try {
    const response = await fetch("/api/model");
    const summary = await response.json();
    buildBars(summary.dataset.classes);
    describe(summary);
    document.body.dataset.ready = "true";
  } catch (error) {
    say(`could not read the model's summary (${error.message})`, true);
  }
}

start();
