// The one scrubber every timeline chart uses: play/pause, step, speed, loop, pause-on-drag,
// keyboard (←/→, space, Home/End), a live readout, and the URL hash as a permalink.
// Several charts on a page share one copy; each registers itself by its chart id.
(function (root) {
  "use strict";
  if (root.ExplainersPlayer) return;

  const CHART_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
  const KEY = /^[a-z][a-z0-9_]{0,31}$/;
  const INTEGER = /^[0-9]{1,9}$/;
  const VALUE = /^[A-Za-z0-9._-]{1,32}$/;
  const players = new Map();

  // The frame to show for a requested training step: the last frame at or before it, clamped.
  function frameForStep(steps, step) {
    let frame = 0;
    for (let i = 0; i < steps.length; i++) {
      if (steps[i] <= step) frame = i;
      else break;
    }
    return frame;
  }

  function matchChoice(values, text) {
    const exact = values.indexOf(text);
    if (exact >= 0) return exact;
    const number = Number(text);
    if (!Number.isFinite(number)) return null;
    const close = values.findIndex((v) => Number.isFinite(Number(v)) && Number(v) === number);
    return close >= 0 ? close : null;
  }

  // "#<chart>.<key>=<value>&..." -> {frame, choices} for the chart `spec.id`, or null.
  // Strict: unknown keys and malformed values are skipped; nothing here throws.
  function parseHash(hash, spec) {
    if (typeof hash !== "string" || hash.length > 512 || !spec || !CHART_ID.test(spec.id)) return null;
    const text = hash.charAt(0) === "#" ? hash.slice(1) : hash;
    const dot = text.indexOf(".");
    if (dot < 1 || text.slice(0, dot) !== spec.id) return null;
    const result = { frame: null, choices: {} };
    for (const pair of text.slice(dot + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!KEY.test(key) || !VALUE.test(value)) continue;
      if (key === "step") {
        if (INTEGER.test(value) && spec.steps && spec.steps.length > 0) {
          result.frame = frameForStep(spec.steps, parseInt(value, 10));
        }
      } else if (spec.choices && Object.prototype.hasOwnProperty.call(spec.choices, key)) {
        const index = matchChoice(spec.choices[key], value);
        if (index !== null) result.choices[key] = index;
      }
    }
    return result;
  }

  function formatHash(spec, frame, choices) {
    const parts = [];
    for (const key of Object.keys(spec.choices || {})) {
      if (choices[key] !== undefined) parts.push(`${key}=${spec.choices[key][choices[key]]}`);
    }
    parts.push(`step=${spec.steps[frame]}`);
    return `#${spec.id}.${parts.join("&")}`;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  // The readout as pieces [kind, label, value, extra]: the step, "label = value" pairs, notes.
  function readoutPieces(player, frame, parts) {
    const n = player.spec.steps.length;
    const pieces = [["step", player.stepLabel, String(player.spec.steps[frame]), `(${frame + 1}/${n})`]];
    for (const part of parts || []) {
      if (Array.isArray(part) && part[0]) pieces.push(["pair", String(part[0]), String(part[1])]);
      else if (Array.isArray(part)) pieces.push(["note", "", String(part[1])]);
    }
    return pieces;
  }

  function pieceHtml([kind, label, value, extra]) {
    if (kind === "step") {
      return `${escapeHtml(label)} <span data-value>${escapeHtml(value)}</span> ` +
        `<span data-value style="opacity:0.65">${escapeHtml(extra)}</span>`;
    }
    if (kind === "pair") return `${escapeHtml(label)} = <b data-value>${escapeHtml(value)}</b>`;
    return `<em data-value>${escapeHtml(value)}</em>`;
  }

  // A frame with the same labels as the last changes only the text of its values: rewriting the whole
  // readout's HTML at every frame re-parses and re-lays it out, milliseconds of a 16.7 ms frame.
  function showReadout(player, frame, parts) {
    const pieces = readoutPieces(player, frame, parts);
    const shape = pieces.map(([kind, label]) => `${kind}:${label}`).join("\n");
    const values = pieces.flatMap(([kind, , value, extra]) => (kind === "step" ? [value, extra] : [value]));
    if (shape !== player.readoutShape) {
      player.readout.innerHTML = pieces.map(pieceHtml).join(" · ");
      player.readoutShape = shape;
      player.readoutNodes = Array.from(player.readout.querySelectorAll("[data-value]"));
      return;
    }
    values.forEach((value, i) => {
      const node = player.readoutNodes[i];
      if (node.textContent !== value) node.textContent = value;
    });
  }

  function currentChoices(player) {
    const choices = {};
    for (const [key, widget] of Object.entries(player.choiceWidgets)) choices[key] = widget.active;
    return choices;
  }

  function setFrame(player, frame) {
    const last = player.spec.steps.length - 1;
    frame = Math.max(0, Math.min(last, frame | 0));
    player.expectedFrame = frame;
    player.slider.value = frame;
    return frame;
  }

  function setPlaying(player, playing) {
    player.playing = playing;
    player.play.label = playing ? "❚❚ Pause" : "▶ Play";
    // screen readers announce the readout when the reader pauses, not at every frame of playback
    if (player.readout) player.readout.setAttribute("aria-live", playing ? "off" : "polite");
    if (playing) {
      player.lastTick = null;
      root.requestAnimationFrame((t) => tick(player, t));
    } else {
      writeHash(player);
    }
  }

  function tick(player, now) {
    if (!player.playing) return;
    const n = player.spec.steps.length;
    const perFrameMs = (player.durationS * 1000) / Math.max(1, n - 1) / player.speed();
    if (player.lastTick === null) player.lastTick = now;
    const advance = Math.floor((now - player.lastTick) / perFrameMs);
    if (advance > 0) {
      player.lastTick += advance * perFrameMs;
      let next = player.slider.value + advance;
      if (next > n - 1) {
        if (player.loop.active) next = 0;
        else {
          setFrame(player, n - 1);
          setPlaying(player, false);
          return;
        }
      }
      setFrame(player, next);
    }
    root.requestAnimationFrame((t) => tick(player, t));
  }

  function writeHash(player) {
    clearTimeout(player.hashTimer);
    if (!player.touched || player.playing || !root.history || !root.history.replaceState) return;
    const hash = formatHash(player.spec, player.slider.value, currentChoices(player));
    if (root.location.hash !== hash) root.history.replaceState(null, "", hash);
  }

  function applyHash(player, hash) {
    const parsed = parseHash(hash, player.spec);
    if (!parsed) return false;
    for (const [key, index] of Object.entries(parsed.choices)) player.choiceWidgets[key].active = index;
    if (parsed.frame !== null) setFrame(player, parsed.frame);
    return true;
  }

  function get(id) {
    return players.get(id);
  }

  // User actions, called from the chart's buttons and keys.
  function act(id, action) {
    const player = get(id);
    if (!player) return;
    player.touched = true;
    const last = player.spec.steps.length - 1;
    if (action === "toggle") {
      if (!player.playing && player.slider.value >= last) setFrame(player, 0);
      setPlaying(player, !player.playing);
      return;
    }
    setPlaying(player, false);
    if (action === "back") setFrame(player, player.slider.value - 1);
    else if (action === "forward") setFrame(player, player.slider.value + 1);
    else if (action === "start") setFrame(player, 0);
    else if (action === "end") setFrame(player, last);
    writeHash(player);
  }

  const KEY_ACTIONS = { ArrowLeft: "back", ArrowRight: "forward", " ": "toggle", Home: "start", End: "end" };

  function onKey(player, event) {
    const action = KEY_ACTIONS[event.key];
    if (!action || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    // Controls that handle these keys themselves keep them.
    const target = event.composedPath ? event.composedPath()[0] : event.target;
    const tag = target && target.tagName ? target.tagName.toUpperCase() : "";
    if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(tag)) return;
    if (target && target.getAttribute && target.getAttribute("role") === "slider") return;
    event.preventDefault();
    act(player.spec.id, action);
  }

  // While the reader drags the slider, the permalink follows once the dragging pauses: replaceState at
  // every frame costs milliseconds of a 16.7 ms frame, and the browser throttles many calls.
  const HASH_DELAY_MS = 150;

  function writeHashSoon(player) {
    clearTimeout(player.hashTimer);
    player.hashTimer = setTimeout(() => writeHash(player), HASH_DELAY_MS);
  }

  // Called by the chart's render callback before it draws: whether to draw now. A drag can change the
  // slider several times between two repaints; each change would redo the chart's data and Bokeh's work
  // on it for a picture nobody sees. The first change of an animation frame draws at once (no delay for a
  // single step); later ones in the same frame leave one draw, of the latest value, to the next frame.
  function admit(id) {
    const player = get(id);
    if (!player || !root.requestAnimationFrame) return true;
    if (player.drawing) {
      player.redraw = true;
      return false;
    }
    player.drawing = true;
    root.requestAnimationFrame(() => {
      player.drawing = false;
      if (!player.redraw) return;
      player.redraw = false;
      // the first draw may already show the latest value (the changes came before it read the slider)
      if (drawnKey(player, player.slider.value) !== player.drawnKey) player.render.execute(player.slider);
    });
    return true;
  }

  function drawnKey(player, frame) {
    return JSON.stringify([frame, currentChoices(player)]);
  }

  // Called by the chart's render callback after it drew a frame.
  function rendered(id, frame, parts) {
    const player = get(id);
    if (!player) return;
    if (player.playing && frame !== player.expectedFrame) {
      player.touched = true; // the reader grabbed the slider: the reader wins
      setPlaying(player, false);
    }
    player.drawnKey = drawnKey(player, frame);
    if (player.readout) showReadout(player, frame, parts);
    if (!player.playing) writeHashSoon(player);
  }

  // BokehJS's slider (3.9) answers every change of its value by rebuilding its noUiSlider's options
  // (range, steps, tooltips, pips): a millisecond or two of every frame of a drag or a step. A change of the
  // value alone only needs the handle moved; a change of the range still rebuilds. True when in place.
  function quickSlider(slider) {
    const index = root.Bokeh && root.Bokeh.index;
    const view = index && typeof index.find_one === "function" ? index.find_one(slider) : null;
    const handles = view && view._noUiSlider;
    if (!handles || typeof handles.setHandle !== "function" || typeof view._update_slider !== "function") return false;
    const rebuild = view._update_slider.bind(view);
    let shape = null;
    view._update_slider = () => {
      const now = `${slider.start}|${slider.end}|${slider.step}`;
      if (now === shape) {
        handles.setHandle(0, slider.value, false);
      } else {
        rebuild();
        shape = now;
      }
    };
    return true;
  }

  // Called once per chart when its Bokeh document is ready.
  function attach(options) {
    const player = {
      spec: { id: options.id, steps: Array.from(options.steps), choices: options.choiceValues || {} },
      slider: options.slider,
      render: options.render,
      drawing: false, // a draw happened in this animation frame
      redraw: false, // and a later change waits for the next one
      drawnKey: null, // the frame and choices last drawn
      play: options.play,
      loop: options.loop,
      readout: null,
      choiceWidgets: options.choiceWidgets || {},
      durationS: options.durationS || 6,
      stepLabel: options.stepLabel || "Step",
      speed: () => parseFloat(options.speedSelect.value) || 1,
      playing: false,
      touched: false,
      expectedFrame: options.slider.value,
      lastTick: null,
      hashTimer: null,
    };
    players.set(options.id, player);
    player.quickSlider = quickSlider(options.slider);
    const figure = root.document && root.document.getElementById(`chart-${options.id}`);
    if (figure) {
      figure.addEventListener("keydown", (event) => onKey(player, event));
      // a plain element outside Bokeh's layout: rewriting it costs no layout pass of the chart
      player.readout = figure.querySelector(".explainers-readout");
    }
    for (const widget of Object.values(player.choiceWidgets)) {
      widget.connect(widget.properties.active.change, () => { player.touched = true; });
    }
    // a permalink to this chart brings it into view, whether it opens the page or the page already shows
    // it (an in-page link, an address pasted into the same tab)
    const openLink = (hash) => {
      if (applyHash(player, hash) && figure) figure.scrollIntoView({ block: "center" });
    };
    openLink(root.location ? root.location.hash : "");
    root.addEventListener("hashchange", () => openLink(root.location.hash));
    options.render.execute(options.slider); // draw the first frame (and the readout) in JS
    return player;
  }

  root.ExplainersPlayer = { attach, act, admit, rendered, get, parseHash, formatHash, frameForStep };
})(typeof window !== "undefined" ? window : globalThis);
