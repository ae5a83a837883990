/*
 * A sparse dictionary (one-layer sparse autoencoder) on the 8×8 patches of a drawing, in plain JS.
 *
 * The same algorithm as explainers/unmixer/train.py (torch), written out by hand:
 *   f  = ReLU(W_enc (x - b_dec) + b_enc),   x̂ = W_decᵀ f + b_dec,
 *   loss = mean (x̂ - x)² + λ · mean_batch Σ_k f_k ‖d_k‖,   Adam (torch's formula and defaults).
 * Patches, the initial atoms and the batches come from the same steps and the same generator
 * (mulberry32) as the Python side, so from one seed both engines start bit for bit the same. Their
 * rounding differs (torch adds in float32 in BLAS's order; this file adds in float64 in index order and
 * stores weights and Adam's moments in float32), and training amplifies it: the atoms agree to float32
 * rounding for the first tens of steps, and after the widget's 500 steps single atoms can differ while
 * explained variance, error, L0 and the dead count still agree (unmixer/train.py's docstring has the
 * measurements; tests/test_dictionary.py, FULL_RUN, the bounds).
 *
 * Everything lives inside one function so that its own source can start a Web Worker from a Blob:
 * nothing is fetched, and the page's thread never runs the training.
 *
 *   const t = new DictionaryTrainer(ink, {sparsity: 0.1, seed: 0});   // ink: Float32Array(128*128)
 *   t.status              // "ok" | "empty" | "filled" | "too-little"
 *   t.train(50); t.evaluate(); t.atoms(); t.reconstruction();
 *   DictionaryTrainer.run(ink, options, onEvent)  // off the page's thread; returns {stop(), mode}
 */
(function dictionaryModule(root) {
  "use strict";
  if (root.DictionaryTrainer) return;  // several widgets on one page inline this file

  const SIZE = 128, PATCH = 8, DIM = PATCH * PATCH;
  const KERNEL = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];  // exact in float32, as in patches.py
  const FLAT_STD = 0.04;  // a patch's standard deviation, compared in float64 as in Python
  const MIN_PATCHES = 256;
  const FILLED_INK = 0.5;
  const BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;  // torch.optim.Adam's defaults
  const DEFAULTS = {
    sparsity: 0.1, nAtoms: 64, steps: 500, batchSize: 256, lr: 3e-3, seed: 0, stride: 2, initNorm: 0.1,
  };
  const f32 = Math.fround;

  /** mulberry32: a tiny 32-bit generator; the Python twin computes the same stream with numpy. */
  function mulberry32(seed) {
    let state = seed >>> 0;
    return function next() {
      state = (state + 0x6D2B79F5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Binomial blur, rows then columns, border pixels repeated; float32 after every operation. */
  function blur(ink) {
    let image = Float32Array.from(ink);
    for (const alongRows of [true, false]) {
      const out = new Float32Array(SIZE * SIZE);
      for (let r = 0; r < SIZE; r++) {
        for (let c = 0; c < SIZE; c++) {
          let acc = 0;
          for (let k = 0; k < 5; k++) {
            const rr = alongRows ? r : Math.min(SIZE - 1, Math.max(0, r + k - 2));
            const cc = alongRows ? Math.min(SIZE - 1, Math.max(0, c + k - 2)) : c;
            acc = f32(acc + f32(KERNEL[k] * image[rr * SIZE + cc]));
          }
          out[r * SIZE + c] = acc;
        }
      }
      image = out;
    }
    return image;
  }

  /** Copy the 8×8 patch at (row, col) into out[offset..], minus its mean; returns [mean, std]. */
  function cutPatch(image, row, col, out, offset) {
    let sum = 0;
    for (let i = 0; i < PATCH; i++)
      for (let j = 0; j < PATCH; j++) sum += image[(row + i) * SIZE + col + j];
    const mean = sum / DIM, mean32 = f32(mean);
    let squares = 0;
    for (let i = 0; i < PATCH; i++) {
      for (let j = 0; j < PATCH; j++) {
        const v = f32(image[(row + i) * SIZE + col + j] - mean32);
        out[offset + i * PATCH + j] = v;
        squares += v * v;
      }
    }
    return [mean, Math.sqrt(squares / DIM)];
  }

  /** The training patches of a drawing (same steps as patches.py's extract_patches). */
  function extractPatches(ink, stride) {
    if (ink.length !== SIZE * SIZE) throw new Error("a drawing is 128×128 = 16384 values");
    const blurred = blur(ink);
    const starts = [];
    for (let s = 0; s + PATCH <= SIZE; s += stride) starts.push(s);
    const kept = new Float32Array(starts.length * starts.length * DIM);
    const positions = [], means = [];
    const scratch = new Float32Array(DIM);
    let n = 0;
    for (const row of starts) {
      for (const col of starts) {
        const [mean, std] = cutPatch(blurred, row, col, scratch, 0);
        if (!(std >= FLAT_STD)) continue;  // flat: paper or solid ink
        kept.set(scratch, n * DIM);
        positions.push(row, col);
        means.push(mean);
        n++;
      }
    }
    let status = "ok";
    if (n === 0) {
      let ink_sum = 0;
      for (let i = 0; i < ink.length; i++) ink_sum += ink[i];
      status = ink_sum / ink.length > FILLED_INK ? "filled" : "empty";
    } else if (n < MIN_PATCHES) {
      status = "too-little";
    }
    let squares = 0;
    for (let i = 0; i < n * DIM; i++) squares += kept[i] * kept[i];
    const scale = n ? Math.sqrt(squares / (n * DIM)) : 1;
    const scale32 = f32(scale);
    const patches = new Float32Array(n * DIM);
    for (let i = 0; i < n * DIM; i++) patches[i] = kept[i] / scale32;
    return {patches, count: n, positions: Int32Array.from(positions), means: Float32Array.from(means),
            scale, blurred, status};
  }

  /** (nAtoms × 64) uniform noise in [-1, 1), each atom scaled to length initNorm. */
  function initialAtoms(nAtoms, random, initNorm) {
    const raw = new Float64Array(nAtoms * DIM);
    for (let i = 0; i < raw.length; i++) raw[i] = random() * 2 - 1;
    const atoms = new Float32Array(nAtoms * DIM);
    for (let k = 0; k < nAtoms; k++) {
      let squares = 0;
      for (let d = 0; d < DIM; d++) squares += raw[k * DIM + d] * raw[k * DIM + d];
      const factor = initNorm / Math.sqrt(squares);
      for (let d = 0; d < DIM; d++) atoms[k * DIM + d] = raw[k * DIM + d] * factor;
    }
    return atoms;
  }

  // The two hot loops, unrolled by four (DIM = 64): V8 does not vectorise, but independent sums
  // keep the multiplier busy; about 1.6× faster than the plain loop here.

  /** f = ReLU(W_enc (x - b_dec) + b_enc) for one patch, kept sparse as (active, values). */
  function encodePatch(x, offset, wEnc, bEnc, bDec, K, xc, active, values) {
    for (let d = 0; d < DIM; d++) xc[d] = x[offset + d] - bDec[d];
    let n = 0;
    for (let k = 0; k < K; k++) {
      const row = k * DIM;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < DIM; d += 4) {
        s0 += wEnc[row + d] * xc[d];
        s1 += wEnc[row + d + 1] * xc[d + 1];
        s2 += wEnc[row + d + 2] * xc[d + 2];
        s3 += wEnc[row + d + 3] * xc[d + 3];
      }
      const s = bEnc[k] + ((s0 + s1) + (s2 + s3));
      if (s > 0) { active[n] = k; values[n] = s; n++; }
    }
    return n;
  }

  /** x̂ = W_decᵀ f + b_dec from the sparse code. */
  function decodePatch(n, active, values, wDec, bDec, xHat) {
    for (let d = 0; d < DIM; d++) xHat[d] = bDec[d];
    for (let a = 0; a < n; a++) {
      const row = active[a] * DIM, f = values[a];
      for (let d = 0; d < DIM; d += 4) {
        xHat[d] += f * wDec[row + d];
        xHat[d + 1] += f * wDec[row + d + 1];
        xHat[d + 2] += f * wDec[row + d + 2];
        xHat[d + 3] += f * wDec[row + d + 3];
      }
    }
  }

  class DictionaryTrainer {
    /**
     * ink: 128×128 values in [0, 1] (1 = ink). options: sparsity (λ), nAtoms, batchSize, lr, seed,
     * stride, initNorm, atoms (a Float32Array(nAtoms*64) to start from instead of the seeded noise),
     * batchIndices (an Int32Array(steps*batchSize) to use instead of the seeded batches).
     */
    constructor(ink, options = {}) {
      this.options = Object.assign({}, DEFAULTS, options);
      const o = this.options;
      this.data = extractPatches(ink, o.stride);
      this.status = this.data.status;
      this.nPatches = this.data.count;
      this.stepCount = 0;
      this.random = mulberry32(o.seed);
      const K = o.nAtoms;
      // The seeded init always consumes its draws, so batches follow the same stream either way.
      const seeded = initialAtoms(K, this.random, o.initNorm);
      this.wDec = o.atoms ? Float32Array.from(o.atoms) : seeded;
      this.wEnc = Float32Array.from(this.wDec);  // encoder starts as the decoder transposed
      this.bEnc = new Float32Array(K);
      this.bDec = new Float32Array(DIM);
      this.params = [this.wDec, this.wEnc, this.bEnc, this.bDec];
      this.grads = this.params.map((p) => new Float64Array(p.length));
      this.m = this.params.map((p) => new Float32Array(p.length));
      this.v = this.params.map((p) => new Float32Array(p.length));
      // scratch space for one patch
      this.xc = new Float64Array(DIM);
      this.xHat = new Float64Array(DIM);
      this.g = new Float64Array(DIM);
      this.active = new Int32Array(K);
      this.values = new Float64Array(K);
      this.norms = new Float64Array(K);
      this.fSum = new Float64Array(K);
      this.lossHistory = [];
    }

    get ok() { return this.status === "ok"; }

    /** Encode patch x[offset..] into (this.active, this.values); returns how many atoms fire. */
    encode(x, offset) {
      return encodePatch(x, offset, this.wEnc, this.bEnc, this.bDec, this.options.nAtoms, this.xc,
                         this.active, this.values);
    }

    /** Decode the last encoded patch into this.xHat. */
    decode(nActive) {
      decodePatch(nActive, this.active, this.values, this.wDec, this.bDec, this.xHat);
    }

    computeNorms() {
      const wDec = this.wDec;
      for (let k = 0; k < this.options.nAtoms; k++) {
        let s = 0;
        for (let d = 0; d < DIM; d++) s += wDec[k * DIM + d] * wDec[k * DIM + d];
        this.norms[k] = Math.sqrt(s);
      }
    }

    nextBatch() {
      const o = this.options, B = o.batchSize, batch = new Int32Array(B);
      if (o.batchIndices) {
        if ((this.stepCount + 1) * B > o.batchIndices.length) throw new Error("batchIndices ran out");
        batch.set(o.batchIndices.subarray(this.stepCount * B, (this.stepCount + 1) * B));
      } else {
        for (let b = 0; b < B; b++) batch[b] = Math.floor(this.random() * this.nPatches);
      }
      return batch;
    }

    /** One Adam step on one batch; returns the batch's loss (before the update). */
    step() {
      if (!this.ok) throw new Error(`cannot train on this drawing: ${this.status}`);
      const o = this.options, K = o.nAtoms, B = o.batchSize, lambda = o.sparsity;
      const x = this.data.patches, wDec = this.wDec, wEnc = this.wEnc;
      const [gWDec, gWEnc, gBEnc, gBDec] = this.grads;
      for (const g of this.grads) g.fill(0);
      this.fSum.fill(0);
      this.computeNorms();
      const norms = this.norms, xc = this.xc, xHat = this.xHat, g = this.g;
      const gScale = 2 / (B * DIM);  // d mean((x̂ - x)²) / d x̂
      let squares = 0, l1 = 0;
      const active = this.active, values = this.values, fSum = this.fSum, bEnc = this.bEnc;
      const bDec = this.bDec, batch = this.nextBatch();
      for (let b = 0; b < B; b++) {
        const offset = batch[b] * DIM;
        const nActive = encodePatch(x, offset, wEnc, bEnc, bDec, K, xc, active, values);
        decodePatch(nActive, active, values, wDec, bDec, xHat);
        for (let d = 0; d < DIM; d++) {
          const r = xHat[d] - x[offset + d];
          squares += r * r;
          g[d] = r * gScale;
          gBDec[d] += g[d];
        }
        for (let a = 0; a < nActive; a++) {
          const k = active[a], f = values[a], row = k * DIM;
          l1 += f * norms[k];
          fSum[k] += f;
          // d loss / d f_k: through x̂, plus the sparsity price
          let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
          for (let d = 0; d < DIM; d += 4) {
            gWDec[row + d] += f * g[d];
            gWDec[row + d + 1] += f * g[d + 1];
            gWDec[row + d + 2] += f * g[d + 2];
            gWDec[row + d + 3] += f * g[d + 3];
            t0 += g[d] * wDec[row + d];
            t1 += g[d + 1] * wDec[row + d + 1];
            t2 += g[d + 2] * wDec[row + d + 2];
            t3 += g[d + 3] * wDec[row + d + 3];
          }
          const gf = lambda * norms[k] / B + ((t0 + t1) + (t2 + t3));
          for (let d = 0; d < DIM; d += 4) {
            gWEnc[row + d] += gf * xc[d];
            gWEnc[row + d + 1] += gf * xc[d + 1];
            gWEnc[row + d + 2] += gf * xc[d + 2];
            gWEnc[row + d + 3] += gf * xc[d + 3];
          }
          gBEnc[k] += gf;
        }
      }
      for (let k = 0; k < K; k++) {
        const row = k * DIM;
        if (fSum[k] > 0) {  // the sparsity term also pulls on the atom's length
          const c = lambda * fSum[k] / (B * norms[k]);
          for (let d = 0; d < DIM; d++) gWDec[row + d] += c * wDec[row + d];
        }
        // b_dec is subtracted before encoding, so it also receives the encoder's gradient
        for (let d = 0; d < DIM; d++) gBDec[d] -= gBEnc[k] * wEnc[row + d];
      }
      this.adam();
      this.stepCount++;
      const loss = squares / (B * DIM) + lambda * l1 / B;
      this.lossHistory.push(loss);
      if (!Number.isFinite(loss)) throw new Error("training diverged (the loss is not a number)");
      return loss;
    }

    /** torch.optim.Adam's update: p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps). */
    adam() {
      const t = this.stepCount + 1, lr = this.options.lr;
      const stepSize = lr / (1 - Math.pow(BETA1, t));
      const bc2Sqrt = Math.sqrt(1 - Math.pow(BETA2, t));
      for (let p = 0; p < this.params.length; p++) {
        const param = this.params[p], grad = this.grads[p], m = this.m[p], v = this.v[p];
        for (let i = 0; i < param.length; i++) {
          const gi = f32(grad[i]);  // torch keeps gradients in float32
          m[i] = m[i] + (1 - BETA1) * (gi - m[i]);
          v[i] = v[i] * BETA2 + (1 - BETA2) * gi * gi;
          param[i] = param[i] - stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + EPS);
        }
      }
    }

    /** Run n steps; returns the last loss. */
    train(n) {
      let loss = NaN;
      for (let i = 0; i < n; i++) loss = this.step();
      return loss;
    }

    /** The standard measures over every patch: loss, mse, explainedVariance, l0, dead, firingFrequency. */
    evaluate() {
      const evaluation = this.evaluation();
      evaluation.advance(Infinity);
      return evaluation.result();
    }

    /**
     * The same measures, computed in pieces so a page can yield between them: advance(deadline)
     * works through the patches until performance.now() passes deadline and returns true once done.
     * Do not train while an evaluation is under way.
     */
    evaluation() {
      const K = this.options.nAtoms, N = this.nPatches, x = this.data.patches;
      const fires = new Float64Array(K), columnSum = new Float64Array(DIM);
      const sums = {squares: 0, l1: 0, active: 0, total: 0};
      let next = 0;
      this.computeNorms();
      const advance = (deadline) => {
        while (next < N) {
          const offset = next * DIM, nActive = this.encode(x, offset);
          this.decode(nActive);
          sums.active += nActive;
          for (let a = 0; a < nActive; a++) {
            fires[this.active[a]]++;
            sums.l1 += this.values[a] * this.norms[this.active[a]];
          }
          for (let d = 0; d < DIM; d++) {
            const r = this.xHat[d] - x[offset + d];
            sums.squares += r * r;
            columnSum[d] += x[offset + d];
            sums.total += x[offset + d] * x[offset + d];
          }
          next++;
          if (next % 64 === 0 && now() > deadline) return next >= N;
        }
        return true;
      };
      const result = () => {
        // Σ (x - column mean)² = Σ x² - N · Σ mean²
        let variance = sums.total;
        for (let d = 0; d < DIM; d++) variance -= columnSum[d] * columnSum[d] / N;
        const firingFrequency = new Float32Array(K);
        let dead = 0;
        for (let k = 0; k < K; k++) {
          firingFrequency[k] = fires[k] / N;
          if (fires[k] === 0) dead++;
        }
        const mse = sums.squares / (N * DIM);
        return {
          step: this.stepCount, loss: mse + this.options.sparsity * sums.l1 / N, mse,
          explainedVariance: 1 - sums.squares / variance, l0: sums.active / N, dead, firingFrequency,
        };
      };
      return {advance, result};
    }

    /** A copy of the atoms (decoder rows), nAtoms × 64. */
    atoms() { return Float32Array.from(this.wDec); }

    /** The blurred drawing rebuilt tile by tile from the dictionary; flat tiles keep their mean. */
    reconstruction() {
      const blurred = this.data.blurred, out = new Float32Array(SIZE * SIZE);
      const tile = new Float32Array(DIM), scale = this.data.scale, scale32 = f32(scale);
      for (let row = 0; row < SIZE; row += PATCH) {
        for (let col = 0; col < SIZE; col += PATCH) {
          const [mean, std] = cutPatch(blurred, row, col, tile, 0);
          const mean32 = f32(mean);
          let values = null;
          if (std >= FLAT_STD && this.ok) {
            for (let d = 0; d < DIM; d++) tile[d] = tile[d] / scale32;
            this.decode(this.encode(tile, 0));
            values = this.xHat;
          }
          for (let i = 0; i < PATCH; i++)
            for (let j = 0; j < PATCH; j++)
              out[(row + i) * SIZE + col + j] = mean32 + (values ? values[i * PATCH + j] * scale : 0);
        }
      }
      return out;
    }

    /** Everything a page shows at one moment (measures from evaluate()), as transferable arrays. */
    snapshot(done, stats) {
      const history = this.lossHistory;
      return Object.assign(stats || this.evaluate(), {
        done: !!done, atoms: this.atoms(), reconstruction: this.reconstruction(),
        nPatches: this.nPatches, batchLoss: history.length ? history[history.length - 1] : null,
      });
    }
  }

  /**
   * Train `steps` steps without blocking the page; calls onEvent(event) with
   *   {type: "status", status, nPatches, blurred}                      once, first;
   *   {type: "snapshot", step, atoms, reconstruction, mse, ..., done}  every ~snapshotMs and at the end;
   *   {type: "error", message}                                         if anything throws.
   * Runs in a Web Worker made from this file's own source; where workers are unavailable, on the
   * page's thread in slices of at most sliceMs, yielding between them. Returns {stop(), mode}.
   */
  function run(ink, options, onEvent) {
    const settings = Object.assign({steps: DEFAULTS.steps, snapshotMs: 80, sliceMs: 8}, options);
    const drawing = Float32Array.from(ink);
    if (settings.worker !== false && typeof Worker !== "undefined" && typeof Blob !== "undefined") {
      try {
        return runInWorker(drawing, settings, onEvent);
      } catch (error) {
        // a page policy may forbid blob: workers; fall through to the page's thread
      }
    }
    return runSliced(drawing, settings, onEvent, nextTask());
  }

  function runInWorker(drawing, settings, onEvent) {
    const source = `(${dictionaryModule.toString()})(self);`;
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    let stopped = false, heard = false, fallback = null;
    const controller = {
      mode: "worker",
      stop() {
        stopped = true;
        worker.terminate();
        if (fallback) fallback.stop();
      },
    };
    worker.onmessage = (message) => {
      if (stopped) return;
      heard = true;
      const event = message.data;
      if (event.type === "error" || (event.type === "snapshot" && event.done) ||
          (event.type === "status" && event.status !== "ok")) worker.terminate();
      onEvent(event);
    };
    worker.onerror = (error) => {
      error.preventDefault();
      if (stopped) return;
      worker.terminate();
      if (!heard) {  // the worker never started (a page policy may refuse blob: scripts): train here
        controller.mode = "page";
        fallback = runSliced(drawing, settings, onEvent, nextTask());
        return;
      }
      stopped = true;
      onEvent({type: "error", message: error.message || "the training worker failed"});
    };
    const {worker: _, ...plain} = settings;
    worker.postMessage({type: "start", ink: Float32Array.from(drawing), options: plain});
    return controller;
  }

  /**
   * Train in slices of at most sliceMs, each its own task; `later` schedules the next slice. Slices
   * build the trainer, train, or measure for a snapshot (in pieces too), so none runs long.
   */
  function runSliced(drawing, settings, onEvent, later) {
    let stopped = false, trainer = null, evaluation = null, lastSnapshot = 0;
    const emit = (event) => { if (!stopped) onEvent(event); };
    const slice = () => {
      if (stopped) return;
      try {
        const deadline = now() + settings.sliceMs;
        if (!trainer) {
          trainer = new DictionaryTrainer(drawing, settings);
          emit({type: "status", status: trainer.status, nPatches: trainer.nPatches,
                blurred: Float32Array.from(trainer.data.blurred)});
          if (!trainer.ok) return;
          evaluation = trainer.evaluation();  // a first snapshot: the atoms before training
        } else if (evaluation) {
          if (evaluation.advance(deadline)) {
            const done = trainer.stepCount >= settings.steps;
            emit(Object.assign({type: "snapshot"}, trainer.snapshot(done, evaluation.result())));
            evaluation = null;
            lastSnapshot = now();
            if (done) return;
          }
        } else {
          while (trainer.stepCount < settings.steps && now() < deadline) trainer.step();
          if (trainer.stepCount >= settings.steps || now() - lastSnapshot >= settings.snapshotMs) {
            evaluation = trainer.evaluation();
          }
        }
        later(slice);
      } catch (error) {
        emit({type: "error", message: String(error.message || error)});
      }
    };
    later(slice);
    return {stop() { stopped = true; }, mode: "page"};
  }

  /** Schedule fn as a new task: a MessageChannel hop, which browsers do not clamp like setTimeout. */
  function nextTask() {
    if (typeof MessageChannel === "undefined") return (fn) => setTimeout(fn, 0);
    const channel = new MessageChannel(), queue = [];
    channel.port1.onmessage = () => queue.shift()();
    return (fn) => { queue.push(fn); channel.port2.postMessage(null); };
  }

  function now() { return (typeof performance !== "undefined" ? performance : Date).now(); }

  DictionaryTrainer.run = run;
  DictionaryTrainer.extractPatches = extractPatches;
  DictionaryTrainer.blur = blur;
  DictionaryTrainer.mulberry32 = mulberry32;
  DictionaryTrainer.initialAtoms = (nAtoms, seed, initNorm) =>
    initialAtoms(nAtoms, mulberry32(seed), initNorm);
  DictionaryTrainer.DEFAULTS = Object.freeze(Object.assign({}, DEFAULTS));
  DictionaryTrainer.SIZE = SIZE;
  DictionaryTrainer.PATCH = PATCH;
  root.DictionaryTrainer = DictionaryTrainer;

  // Inside a worker started by run(): train on request, posting what the page shows.
  const inWorker = typeof WorkerGlobalScope !== "undefined" && root instanceof WorkerGlobalScope;
  if (inWorker) {
    root.onmessage = (message) => {
      if (message.data.type !== "start") return;
      // a worker has no frames to keep smooth: longer slices, fewer timer hops
      const options = Object.assign({}, message.data.options, {sliceMs: 40});
      runSliced(message.data.ink, options, (event) => {
        const buffers = [event.atoms, event.reconstruction, event.firingFrequency, event.blurred]
          .filter(Boolean).map((a) => a.buffer);
        root.postMessage(event, buffers);
      }, nextTask());
    };
  }
})(typeof globalThis !== "undefined" ? globalThis : this);
