// The feature browser (feature_browser/render.py). Its data are script files beside the page, each one
// FeatureBrowser.register(name, data) call, added as <script> tags when needed: that works from file://,
// where fetch() of a local file is blocked. The URL hash "#feature=N" names the open feature, so a link
// opens it and the back button returns to the one before.
(function () {
  "use strict";
  const root = document.getElementById("feature-browser");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const folder = (document.documentElement.dataset.content_root ?? "../") + root.dataset.folder;
  const HASH = /^#feature=(\d{1,7})$/;
  const registered = {};
  const loading = {};
  let index = null;
  let position = new Map(); // feature -> its place among the live features
  let current = null;
  let searchRun = 0;

  window.FeatureBrowser = { register(name, data) { registered[name] = data; } };

  function load(name) {
    if (!loading[name]) {
      loading[name] = new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        tag.src = folder + name + ".js";
        tag.onload = () => (name in registered ? resolve(registered[name]) : reject(new Error(name)));
        tag.onerror = () => { delete loading[name]; tag.remove(); reject(new Error(name)); };
        document.head.appendChild(tag);
      });
    }
    return loading[name];
  }

  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const visible = (token) => token.replace(/\n/g, "↵").replace(/\t/g, "→");
  const percent = (x) => (x >= 0.1 ? `${(x * 100).toFixed(1)} %` : `${(x * 100).toPrecision(2)} %`);
  const link = (f, text) => `<a href="#feature=${f}" data-feature="${f}">${escape(text ?? "#" + f)}</a>`;

  // --- the skeleton ---------------------------------------------------------------------------------
  root.innerHTML = `
    <div class="fb-bar">
      <label class="fb-label" for="fb-search">Find a feature</label>
      <input id="fb-search" class="fb-search" type="search" autocomplete="off" spellcheck="false"
             placeholder="a number, a word, or words of an explanation" aria-describedby="fb-keys"
             aria-controls="fb-results">
      <div class="fb-nav">
        <button type="button" class="fb-prev" aria-keyshortcuts="ArrowLeft">← Previous</button>
        <span class="fb-where"></span>
        <button type="button" class="fb-next" aria-keyshortcuts="ArrowRight">Next →</button>
      </div>
      <p id="fb-keys" class="fb-keys">Keys: <kbd>←</kbd> <kbd>→</kbd> previous and next live feature,
        <kbd>/</kbd> the search box. A feature's address (<code>#feature=N</code>) opens it.</p>
    </div>
    <div id="fb-results" class="fb-results" hidden></div>
    <p class="fb-status" role="status" aria-live="polite"></p>
    <article class="fb-feature" tabindex="-1" aria-label="feature"></article>`;
  const search = root.querySelector(".fb-search");
  const results = root.querySelector(".fb-results");
  const status = root.querySelector(".fb-status");
  const view = root.querySelector(".fb-feature");
  const where = root.querySelector(".fb-where");
  const prev = root.querySelector(".fb-prev");
  const next = root.querySelector(".fb-next");

  // --- one feature ----------------------------------------------------------------------------------
  // a data file codes numbers as fixed-width base-64 digits (render.py ``code``)
  const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  function decode(text, width) {
    const out = [];
    for (let i = 0; i < text.length; i += width) {
      let n = 0;
      for (let k = 0; k < width; k++) n = n * 64 + DIGITS.indexOf(text[i + k]);
      out.push(n);
    }
    return out;
  }

  function shade(share) {
    return share > 0 ? `rgba(214,39,40,${(Math.min(1, share) * 0.75).toFixed(2)})` : "transparent";
  }

  function snippet([codedTokens, codedLevels, held, source], data, largest) {
    const tokens = decode(codedTokens, data.width);
    const shares = decode(codedLevels, 1).map((level) => level / data.levels);
    const peak = shares.indexOf(Math.max(...shares));
    const spans = tokens.map((t, i) => {
      const value = shares[i] > 0 ? `about ${(shares[i] * largest).toPrecision(2)}` : "0";
      return `<span class="t${i === peak ? " fb-peak" : ""}" style="background:${shade(shares[i])}"
        title="${value}">${escape(visible(data.strings[t]))}</span>`;
    }).join("");
    const kind = held ? "held out" : "training";
    return `<div class="fb-snippet"><span class="fb-tag fb-${held ? "held" : "train"}">${kind} · ` +
      `${escape(index.sources[source] || "")}</span>${spans}</div>`;
  }

  function histogram(counts, largest) {
    const top = Math.max(1, ...counts);
    const width = 100 / counts.length;
    const bars = counts.map((c, i) => `<rect x="${(i * width).toFixed(2)}" y="${(40 - (38 * c) / top).toFixed(2)}"
      width="${(width * 0.85).toFixed(2)}" height="${((38 * c) / top).toFixed(2)}"><title>${c} tokens</title></rect>`);
    return `<figure class="fb-hist"><svg viewBox="0 0 100 41" preserveAspectRatio="none" role="img"
      aria-label="histogram of the feature's nonzero activations, 0 to ${largest.toFixed(2)}">${bars.join("")}
      <line x1="0" y1="40.5" x2="100" y2="40.5"></line></svg>
      <figcaption><span>0</span><span>nonzero activations (tokens per bin)</span>
      <span>${largest.toFixed(2)}</span></figcaption></figure>`;
  }

  function lens(pairs, strings, sign) {
    return pairs.map(([t, z]) => `<li><code class="fb-token">${escape(visible(strings[t]))}</code>
      <span class="fb-z">${sign}${Math.abs(z).toFixed(1)}</span></li>`).join("");
  }

  function note({ page, anchor, text }) {
    return `<li>${escape(text)} (<a href="${escape(page)}.html#${escape(anchor)}">${escape(page.replace("-", " "))} page</a>)</li>`;
  }

  function featureView(f, pos, record, data) {
    const strings = data.strings;
    const score = index.score[pos];
    const notes = record.notes.length ? `<ul class="fb-notes">${record.notes.map(note).join("")}</ul>` : "";
    return `
      <h3 class="fb-title">Feature ${f}</h3>
      <p class="fb-explanation"><strong>Explanation</strong> (from its strongest training text):
        ${escape(index.explanation[pos])}. <strong>Score</strong> on held-out text:
        <span class="fb-score">${score.toFixed(2)}</span></p>
      ${notes}
      <p class="fb-meta">Fires on ${record.n.toLocaleString("en")} tokens (density ${percent(index.density[pos])});
        largest activation ${record.max.toFixed(2)}.</p>
      ${histogram(record.hist, record.max)}
      <div class="fb-lens">
        <div><h4>Promotes (logit lens)</h4><ol>${lens(record.up, strings, "+")}</ol></div>
        <div><h4>Suppresses</h4><ol>${lens(record.down, strings, "−")}</ol></div>
      </div>
      <p class="fb-lens-note">Its decoder direction through the unembedding: how far each token's logit moves,
        in standard deviations over the vocabulary.</p>
      <h4>Strongest activations, one per text</h4>
      <div class="fb-snippets fb-top">${record.top.map((s) => snippet(s, data, record.max)).join("")}</div>
      <h4>Drawn at random where it fires weakly</h4>
      <p class="fb-lens-note">Texts whose peak is under ${Math.round(index.weak_share * 100)} % of its largest
        activation.</p>
      <div class="fb-snippets fb-weak">${record.weak.length ? record.weak.map((s) => snippet(s, data, record.max)).join("")
        : "<p>It never fires weakly.</p>"}</div>`;
  }

  async function show(f, scroll) {
    current = f;
    const pos = position.get(f);
    where.textContent = pos === undefined ? "" : `${(pos + 1).toLocaleString("en")} / ${index.features.length.toLocaleString("en")} live`;
    prev.disabled = pos === undefined ? f <= index.features[0] : pos === 0;
    next.disabled = pos === undefined ? f >= index.features[index.features.length - 1] : pos === index.features.length - 1;
    if (f >= index.d_sae) {
      view.innerHTML = `<h3 class="fb-title">No feature ${f}</h3><p>The SAE has ${index.d_sae} features, 0 to ${index.d_sae - 1}.</p>`;
      status.textContent = `No feature ${f}.`;
      root.dataset.feature = f;
      return;
    }
    if (pos === undefined) {
      view.innerHTML = `<h3 class="fb-title">Feature ${f}</h3><p>This feature never fired on the corpus: it is dead.</p>`;
      status.textContent = `Feature ${f} is dead.`;
      root.dataset.feature = f;
      return;
    }
    view.setAttribute("aria-busy", "true");
    let data;
    try {
      data = await load("f" + Math.floor(pos / index.shard));
    } catch (error) {
      view.innerHTML = `<p class="fb-error">Feature ${f}'s data could not be loaded.</p>`;
      view.removeAttribute("aria-busy");
      return;
    }
    if (current !== f) return; // another feature was asked for meanwhile
    view.innerHTML = featureView(f, pos, data.features[f], data);
    view.removeAttribute("aria-busy");
    root.dataset.feature = f;
    status.textContent = `Feature ${f}: ${index.explanation[pos]}.`;
    if (scroll) view.scrollIntoView({ block: "nearest" });
  }

  function go(f) {
    if (location.hash === `#feature=${f}`) show(f, true);
    else location.hash = `feature=${f}`; // a history entry: the back button returns here
  }

  function step(delta) {
    if (current === null) return;
    const live = index.features;
    let pos = position.get(current);
    if (pos === undefined) { // from a dead feature: the nearest live one that way
      pos = live.findIndex((f) => f > current);
      pos = pos < 0 ? live.length : pos;
      if (delta > 0) pos -= 1;
    }
    const to = pos + delta;
    if (to >= 0 && to < live.length) go(live[to]);
  }

  const fromHash = () => { const m = HASH.exec(location.hash); return m ? Number(m[1]) : null; };

  // --- search -----------------------------------------------------------------------------------------
  function list(items) {
    return items.length ? `<ul>${items.join("")}</ul>` : "<p>None.</p>";
  }

  function byExplanation(words) {
    const found = [];
    index.explanation.forEach((text, pos) => {
      const lower = text.toLowerCase();
      if (words.every((w) => lower.includes(w))) found.push(pos);
    });
    found.sort((a, b) => index.score[b] - index.score[a]);
    return found.slice(0, 20).map((pos) => `<li>${link(index.features[pos])} ${escape(index.explanation[pos])}
      <span class="fb-z">score ${index.score[pos].toFixed(2)}</span></li>`);
  }

  async function runSearch(text) {
    const run = ++searchRun;
    const query = text.trim().toLowerCase();
    if (!query) { results.hidden = true; results.innerHTML = ""; return; }
    const parts = [];
    const number = /^#?(\d+)$/.exec(query);
    if (number) {
      const f = Number(number[1]);
      const pos = position.get(f);
      parts.push(`<h4>By number</h4>` + list([f < index.d_sae
        ? `<li>${link(f)} ${pos === undefined ? "(dead: never fired)" : escape(index.explanation[pos])}</li>`
        : `<li>No feature ${f}: the SAE has ${index.d_sae} (0 to ${index.d_sae - 1}).</li>`]));
    } else {
      const word = /^[a-z]+$/.test(query) ? query : null;
      if (word && index.prefixes.includes(word.slice(0, 2))) {
        let words = {};
        const file = index.word_files.filter((first) => first <= word.slice(0, 2)).length - 1;
        try { words = await load("w" + file); } catch (error) { /* shown as no word below */ }
        if (run !== searchRun) return;
        const entry = words[word];
        if (entry) {
          const [tokens, fire, share, promote, z] = entry;
          parts.push(`<h4>Fires most on “${escape(word)}” <small>(${tokens} tokens in the corpus; mean activation
            there, as a share of the feature's largest)</small></h4>` +
            list(fire.map((f, i) => `<li>${link(f)} <span class="fb-z">${share[i].toFixed(2)}</span> ${escape(explanationOf(f))}</li>`)));
          parts.push(`<h4>Promotes “${escape(word)}” most <small>(logit lens, standard deviations)</small></h4>` +
            list(promote.map((f, i) => `<li>${link(f)} <span class="fb-z">+${z[i].toFixed(1)}</span> ${escape(explanationOf(f))}</li>`)));
        }
        const near = Object.keys(words).filter((w) => w !== word && w.startsWith(word)).slice(0, 12);
        if (near.length) {
          parts.push(`<h4>Other words</h4><p class="fb-words">${near.map((w) =>
            `<button type="button" class="fb-word" data-word="${escape(w)}">${escape(w)}</button>`).join(" ")}</p>`);
        }
        if (!entry) parts.unshift(`<p>“${escape(word)}” is not a word of the corpus.</p>`);
      }
      parts.push(`<h4>Explanations with “${escape(query)}”</h4>` + list(byExplanation(query.split(/\s+/))));
    }
    if (run !== searchRun) return;
    results.innerHTML = parts.join("");
    results.hidden = false;
  }

  const explanationOf = (f) => (position.has(f) ? index.explanation[position.get(f)] : "");

  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => runSearch(search.value), 150); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const number = /^#?(\d+)$/.exec(search.value.trim());
      if (number) go(Number(number[1]));
      else runSearch(search.value).then(() => { const first = results.querySelector("a[data-feature]"); if (first) first.focus(); });
    } else if (event.key === "Escape") {
      search.value = "";
      runSearch("");
    }
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest("button.fb-word");
    if (button) { search.value = button.dataset.word; runSearch(search.value); }
  });
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));

  // keys for the whole page (not while typing): before the theme's own "/" shortcut, which it replaces here
  window.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !index) return;
    const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) return;
    if (event.key === "/") search.focus();
    else if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
    else return;
    event.preventDefault();
    event.stopPropagation();
  }, true);

  window.addEventListener("hashchange", () => {
    const f = fromHash();
    if (f !== null && index) show(f, true);
  });

  load("index").then((data) => {
    index = data;
    position = new Map(index.features.map((f, i) => [f, i]));
    const f = fromHash();
    show(f ?? index.start, false);
    if (f !== null) root.scrollIntoView();
  }, () => { status.textContent = "The feature browser's data could not be loaded."; });
})();
