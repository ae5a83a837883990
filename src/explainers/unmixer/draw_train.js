/*
 * "Draw a shape, click Train": the in-page widget around DictionaryTrainer (dictionary.js).
 *
 *   DrawTrain.mount(idOrElement, {sparsity, steps, seed, drawing})  -> controller
 *
 * The reader draws on a 128×128 canvas (mouse, pen or touch, through pointer events), clicks Train,
 * and watches the 64 atoms form; an atom's brightness follows how often it fires, so atoms that the
 * sparsity penalty makes useless fade to black. Training runs in a Web Worker (or, where workers are
 * unavailable, in short slices between frames), so the page keeps responding. Nothing leaves the page.
 *
 * The root element carries data-state = "idle" | "training" | "done" | "message" | "error", and fires
 * "drawtrain:snapshot" and "drawtrain:done" events; tests and the chapter can listen to them.
 */
(function drawTrainModule(root) {
  "use strict";
  if (root.DrawTrain) return;  // several widgets on one page inline this file

  const SIZE = 128, PATCH = 8, GRID = 8, CELL = PATCH + 1;  // 8×8 atoms, one pixel between them
  const BRUSH = 3.5;  // pen width in drawing pixels (the built-in drawings use 3)
  // an atom firing on ≥ 1 patch in 16 is drawn at full brightness (as dictionary_chart.py draws it)
  const FULL_FIRING = 1 / 16;

  const MESSAGES = {
    prompt: "Draw with the mouse, a pen or a finger, then click Train.",
    empty: "The canvas is empty: draw a shape or a few strokes first, then click Train.",
    filled: "The canvas is completely filled: with no edge anywhere there is nothing to learn. " +
            "Click Clear and draw some strokes.",
    "too-little": "Too little drawing to learn from: only {n} patches have an edge (a dictionary of 64 " +
                  "atoms needs at least 256). A single dot is not enough; draw a few longer strokes.",
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function figure(canvas, caption) {
    return el("figure", {class: "sae-dt-figure"}, [canvas, el("figcaption", {text: caption})]);
  }

  function canvas(width, height, attrs) {
    return el("canvas", Object.assign({width: String(width), height: String(height)}, attrs));
  }

  /** The page's colour for a CSS custom property of the widget, as [r, g, b]. */
  function themeColour(node, name, fallback) {
    const value = getComputedStyle(node).getPropertyValue(name).trim() || fallback;
    const probe = document.createElement("canvas").getContext("2d");
    probe.fillStyle = fallback;
    probe.fillStyle = value;  // the canvas normalises any CSS colour to #rrggbb
    const hex = probe.fillStyle;
    if (hex[0] !== "#") return [128, 128, 128];
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }

  function decodeDrawing(base64) {
    const bytes = atob(base64), ink = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < ink.length; i++) ink[i] = bytes.charCodeAt(i) / 255;
    return ink;
  }

  function format(value, digits) {
    return Number.isFinite(value) ? value.toFixed(digits) : "–";
  }

  class Widget {
    constructor(node, options) {
      this.root = node;
      this.options = Object.assign({sparsity: 0.1, steps: 500, seed: 0}, options);
      this.running = null;
      this.latest = null;
      this.colours = null;
      this.frameRequested = false;
      this.build();
      this.ink = document.createElement("canvas");  // the data: black ink, alpha = amount of ink
      this.ink.width = this.ink.height = SIZE;
      this.inkContext = this.ink.getContext("2d", {willReadFrequently: true});
      if (this.options.drawing) this.setInk(decodeDrawing(this.options.drawing));
      this.blurred = null;
      this.clearResults();
      this.say(MESSAGES.prompt);
      this.setState("idle");
      this.renderAll();
      this.listen();
    }

    build() {
      const id = this.root.id || "sae-draw-train";
      this.canvas = canvas(SIZE, SIZE, {class: "sae-dt-drawing", role: "img",
        "aria-label": "Drawing canvas: draw with the mouse, a pen or a finger"});
      this.grid = canvas(GRID * CELL + 1, GRID * CELL + 1, {class: "sae-dt-atoms", role: "img",
        "aria-label": "The dictionary's 64 atoms; brighter atoms fire more often"});
      this.blurredView = canvas(SIZE, SIZE, {class: "sae-dt-small", role: "img",
        "aria-label": "The blurred drawing the dictionary learns from"});
      this.rebuiltView = canvas(SIZE, SIZE, {class: "sae-dt-small", role: "img",
        "aria-label": "The drawing rebuilt from the atoms"});
      this.clearButton = el("button", {type: "button", class: "sae-dt-button", text: "Clear"});
      this.trainButton = el("button", {type: "button", class: "sae-dt-button sae-dt-primary",
                                       text: "Train"});
      const readout = (name, label) => {
        const value = el("dd", {"data-readout": name, text: "–"});
        this[`${name}Readout`] = value;
        return el("div", {class: "sae-dt-readout"}, [el("dt", {text: label}), value]);
      };
      this.message = el("p", {class: "sae-dt-message", role: "status", "aria-live": "polite",
                              id: `${id}-message`});
      this.root.classList.add("sae-draw-train");
      this.root.replaceChildren(
        el("div", {class: "sae-dt-row"}, [
          figure(this.canvas, "Your drawing"),
          figure(this.grid, "The dictionary: 64 atoms"),
        ]),
        el("div", {class: "sae-dt-controls"}, [
          this.clearButton, this.trainButton,
          el("dl", {class: "sae-dt-readouts"}, [
            readout("step", "step"), readout("error", "reconstruction error"),
            readout("l0", "L0 (atoms per patch)"), readout("dead", "dead atoms"),
          ]),
        ]),
        this.message,
        el("div", {class: "sae-dt-row"}, [
          figure(this.blurredView, "What it learns from (blurred)"),
          figure(this.rebuiltView, "Rebuilt from the atoms"),
        ]),
      );
    }

    listen() {
      let last = null;
      const point = (event) => {
        const box = this.canvas.getBoundingClientRect();
        return [(event.clientX - box.left) * SIZE / box.width, (event.clientY - box.top) * SIZE / box.height];
      };
      const draw = (from, to) => {
        const c = this.inkContext;
        c.strokeStyle = c.fillStyle = "#000";
        c.lineWidth = BRUSH;
        c.lineCap = c.lineJoin = "round";
        c.beginPath();
        if (from) { c.moveTo(from[0], from[1]); c.lineTo(to[0], to[1]); c.stroke(); }
        else { c.arc(to[0], to[1], BRUSH / 2, 0, 2 * Math.PI); c.fill(); }
      };
      this.canvas.addEventListener("pointerdown", (event) => {
        if (event.pointerType === "mouse" && event.button !== 0) return;
        event.preventDefault();
        this.canvas.setPointerCapture(event.pointerId);
        last = point(event);
        draw(null, last);
        this.renderDrawing();
      });
      this.canvas.addEventListener("pointermove", (event) => {
        if (!last) return;
        const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
        for (const e of events.length ? events : [event]) {
          const next = point(e);
          draw(last, next);
          last = next;
        }
        this.renderDrawing();
      });
      const end = () => { last = null; };
      this.canvas.addEventListener("pointerup", end);
      this.canvas.addEventListener("pointercancel", end);
      this.clearButton.addEventListener("click", () => this.clear());
      this.trainButton.addEventListener("click", () => (this.running ? this.stop() : this.train()));
      // Repaint in the page's colours when the reader switches between light and dark mode.
      this.themeObserver = new MutationObserver(() => { this.colours = null; this.renderAll(); });
      this.themeObserver.observe(document.documentElement, {attributes: true,
                                                            attributeFilter: ["data-theme", "class"]});
    }

    /** The drawing as 128×128 ink values in [0, 1]. */
    getInk() {
      const pixels = this.inkContext.getImageData(0, 0, SIZE, SIZE).data;
      const ink = new Float32Array(SIZE * SIZE);
      for (let i = 0; i < ink.length; i++) ink[i] = pixels[4 * i + 3] / 255;
      return ink;
    }

    setInk(ink) {
      const image = this.inkContext.createImageData(SIZE, SIZE);
      for (let i = 0; i < SIZE * SIZE; i++) image.data[4 * i + 3] = Math.round(255 * Math.min(1, Math.max(0, ink[i])));
      this.inkContext.putImageData(image, 0, 0);
      this.renderDrawing();
    }

    clear() {
      this.stop();
      this.inkContext.clearRect(0, 0, SIZE, SIZE);
      this.blurred = null;
      this.clearResults();
      this.renderAll();
      this.say(MESSAGES.prompt);
      this.setState("idle");
    }

    clearResults() {
      this.latest = null;
      for (const name of ["step", "error", "l0", "dead"]) this[`${name}Readout`].textContent = "–";
    }

    train() {
      this.stop();
      this.clearResults();
      this.blurred = null;
      this.renderAll();
      this.startedAt = performance.now();
      this.setState("training");
      this.say("Training…");
      this.trainButton.textContent = "Stop";
      const options = {sparsity: this.options.sparsity, seed: this.options.seed, steps: this.options.steps};
      this.running = DictionaryTrainer.run(this.getInk(), options, (event) => this.onEvent(event));
    }

    stop() {
      if (this.running) this.running.stop();
      this.running = null;
      this.trainButton.textContent = "Train";
      if (this.root.dataset.state === "training") {
        this.setState(this.latest ? "done" : "idle");
        this.say(this.latest ? `Stopped at step ${this.latest.step}.` : MESSAGES.prompt);
      }
    }

    onEvent(event) {
      if (event.type === "status") {
        if (event.status !== "ok") {
          this.running = null;
          this.trainButton.textContent = "Train";
          this.setState("message");
          this.say(MESSAGES[event.status].replace("{n}", event.nPatches), true);
          return;
        }
        this.blurred = event.blurred;
        this.renderImage(this.blurredView, this.blurred);
      } else if (event.type === "snapshot") {
        this.latest = event;
        this.requestFrame();
        this.root.dispatchEvent(new CustomEvent("drawtrain:snapshot", {detail: {step: event.step}}));
        if (event.done) {
          this.running = null;
          this.trainButton.textContent = "Train";
          const seconds = (performance.now() - this.startedAt) / 1000;
          this.setState("done");
          this.say(`Done: ${event.step} steps in ${seconds.toFixed(1)} s. Each bright atom is a pattern the ` +
                   `dictionary reuses; dark ones almost never fire.`);
          this.root.dispatchEvent(new CustomEvent("drawtrain:done", {detail: {step: event.step}}));
        }
      } else if (event.type === "error") {
        this.running = null;
        this.trainButton.textContent = "Train";
        this.setState("error");
        this.say(`Training stopped: ${event.message}`, true);
      }
    }

    requestFrame() {
      if (this.frameRequested) return;
      this.frameRequested = true;
      requestAnimationFrame(() => { this.frameRequested = false; this.renderSnapshot(); });
    }

    setState(state) { this.root.dataset.state = state; }

    say(text, warning) {
      this.message.textContent = text;
      this.message.classList.toggle("sae-dt-warning", !!warning);
    }

    /** Everything: after a theme change, Clear or a new run. */
    renderAll() {
      this.renderDrawing();
      this.renderImage(this.blurredView, this.blurred);
      this.renderSnapshot();
    }

    /** What changes as training goes: the atoms, the rebuilt drawing, the readouts. */
    renderSnapshot() {
      this.renderAtoms();
      this.renderImage(this.rebuiltView, this.latest && this.latest.reconstruction);
      this.renderReadouts();
    }

    /** The theme's colours, read once per theme, with ready-made pixel ramps for fast painting. */
    theme() {
      if (!this.colours) {
        const ink = themeColour(this.root, "--sae-ink", "#000");
        const paper = themeColour(this.root, "--sae-paper", "#fff");
        // 256 RGBA pixels, viewed as 32-bit words: one word per pixel, whatever the byte order
        const bytes = new Uint8ClampedArray(2 * 256 * 4);
        for (let q = 0; q < 256; q++) {
          for (let ch = 0; ch < 3; ch++) {
            bytes[4 * q + ch] = paper[ch] + (q / 255) * (ink[ch] - paper[ch]);  // paper -> ink
            bytes[4 * (256 + q) + ch] = q;  // black -> white
          }
          bytes[4 * q + 3] = bytes[4 * (256 + q) + 3] = 255;
        }
        const words = new Uint32Array(bytes.buffer);
        this.colours = {ink, paper, inkRamp: words.subarray(0, 256), greys: words.subarray(256)};
      }
      return this.colours;
    }

    /** The ImageData a canvas is painted from, and a one-word-per-pixel view of it. */
    pixels(view) {
      if (!view.pixelBuffer) {
        const image = view.getContext("2d").createImageData(view.width, view.height);
        view.pixelBuffer = {image, words: new Uint32Array(image.data.buffer)};
      }
      return view.pixelBuffer;
    }

    renderDrawing() {
      const c = this.canvas.getContext("2d"), {ink, paper} = this.theme();
      c.save();
      c.clearRect(0, 0, SIZE, SIZE);
      c.drawImage(this.ink, 0, 0);
      c.globalCompositeOperation = "source-in";  // tint the ink in the theme's ink colour
      c.fillStyle = `rgb(${ink.join(",")})`;
      c.fillRect(0, 0, SIZE, SIZE);
      c.globalCompositeOperation = "destination-over";  // paper behind it
      c.fillStyle = `rgb(${paper.join(",")})`;
      c.fillRect(0, 0, SIZE, SIZE);
      c.restore();
    }

    /** An ink image (values in [0, 1], clamped) painted in the theme's ink and paper colours. */
    renderImage(view, values) {
      const {image, words} = this.pixels(view), ramp = this.theme().inkRamp;
      for (let i = 0; i < SIZE * SIZE; i++) {
        const v = values ? values[i] : 0;
        words[i] = ramp[v > 0 ? (v < 1 ? Math.round(255 * v) : 255) : 0];
      }
      view.getContext("2d").putImageData(image, 0, 0);
    }

    /** Each atom in grey (mid-grey = 0), scaled to its own largest value, dimmed by how rarely it fires;
     *  before training, 64 empty slots in the paper colour. Gaps stay transparent: the border shows. */
    renderAtoms() {
      const {image, words} = this.pixels(this.grid), size = this.grid.width;
      const snap = this.latest, {inkRamp, greys} = this.theme();
      for (let k = 0; k < GRID * GRID; k++) {
        const top = 1 + Math.floor(k / GRID) * CELL, left = 1 + (k % GRID) * CELL;
        const atom = snap && snap.atoms.subarray(k * PATCH * PATCH, (k + 1) * PATCH * PATCH);
        let largest = 1e-12, brightness = 0;
        if (snap) {
          for (let i = 0; i < atom.length; i++) largest = Math.max(largest, Math.abs(atom[i]));
          brightness = Math.min(1, Math.sqrt(snap.firingFrequency[k] / FULL_FIRING));
        }
        for (let i = 0; i < PATCH; i++) {
          for (let j = 0; j < PATCH; j++) {
            const grey = snap ? brightness * (0.5 + 0.5 * atom[i * PATCH + j] / largest) : 0;
            words[(top + i) * size + left + j] = snap ? greys[Math.round(255 * grey)] : inkRamp[0];
          }
        }
      }
      this.grid.getContext("2d").putImageData(image, 0, 0);
    }

    renderReadouts() {
      const snap = this.latest;
      if (!snap) return;
      this.stepReadout.textContent = `${snap.step} / ${this.options.steps}`;
      this.errorReadout.textContent =
        `${format(snap.mse, 3)} (explains ${format(100 * snap.explainedVariance, 0)}%)`;
      this.l0Readout.textContent = format(snap.l0, 1);
      this.deadReadout.textContent = `${snap.dead} of ${snap.atoms.length / (PATCH * PATCH)}`;
    }
  }

  function mount(target, options) {
    const node = typeof target === "string" ? document.getElementById(target) : target;
    if (!node) throw new Error(`DrawTrain.mount: no element ${target}`);
    if (node.drawTrain) return node.drawTrain;
    node.drawTrain = new Widget(node, options || {});
    return node.drawTrain;
  }

  root.DrawTrain = {mount, MESSAGES};
})(typeof globalThis !== "undefined" ? globalThis : this);
