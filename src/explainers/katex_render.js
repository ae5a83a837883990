// Renders TeX to HTML with KaTeX at build time, for explainers/mathrender.py: one JSON request per line on
// stdin ({"tex": ..., "display": true|false}), one JSON answer per line on stdout ({"html": ...} or
// {"error": ...}). Run with node; the first argument is KaTeX's package folder (npm's katex).
"use strict";
const path = require("path");
const readline = require("readline");
const katex = require(path.resolve(process.argv[2]));

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let answer;
  try {
    const { tex, display } = JSON.parse(line);
    answer = { html: katex.renderToString(tex, { displayMode: Boolean(display), throwOnError: true, output: "htmlAndMathml" }) };
  } catch (error) {
    answer = { error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
