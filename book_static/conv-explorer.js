/* The CNN Book: a convolution explorer and a pooling explorer that run in the page itself (no
 * kernel, no server).
 *
 * Mounts on every element with class "conv-explorer" (data-preset="1".."5" picks the first
 * example shown). It computes a cross-correlation exactly like helpers.ops.conv2d: the kernel
 * is not flipped; padding 0, 1, "same" (output ceil(I / S), the extra zero at the end, as
 * helpers.shapes.same_padding) or "full" (F - 1 zeros on each side).
 * Mounts a pooling explorer on every element with class "pool-explorer" (chapter 03;
 * data-preset picks the first example): max or average pooling with an F x F window and stride
 * S, no padding, output floor((I - F) / S) + 1, exactly like helpers.scratch.pool. The two share
 * the grids, the controls and the stepper below.
 * Loaded on every page of the book; where there is no explorer element it does nothing.
 */
(function () {
  "use strict";

  var VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];

  // The chapter's worked examples. The page has no Python, so the data lives here; the test
  // (tests/test_explorer_page.py) checks every output against helpers.ops.conv2d.
  var PRESETS = [
    { name: "Example 1: a 3×3 patch, vertical edge",
      image: [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
      kernel: VERTICAL_EDGE, stride: 1, padding: "0" },
    { name: "Example 2: 5×5 binary image, X kernel",
      image: [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
      kernel: [[1, 0, 1], [0, 1, 0], [1, 0, 1]], stride: 1, padding: "0" },
    { name: "Example 3: a 6×6 step edge, vertical edge",
      image: [[10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0],
              [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0], [10, 10, 10, 0, 0, 0]],
      kernel: VERTICAL_EDGE, stride: 1, padding: "0" },
    { name: "Example 4: a 5×5 image, vertical edge",
      image: [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]],
      kernel: VERTICAL_EDGE, stride: 1, padding: "0" },
    { name: "Example 5: same padding, sharpen",
      image: [[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127],
              [80, 57, 115, 69, 134], [104, 126, 123, 95, 130]],
      kernel: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], stride: 1, padding: "same" }
  ];
  // Chapter 03's pooling examples and the lecture's (the test checks every output against
  // helpers.scratch.pool.max_pool2d / avg_pool2d).
  var POOL_PRESETS = [
    { name: "Example 1: chapter 03's 4×4 input",
      image: [[1, 3, 2, 1], [4, 6, 5, 0], [3, 2, 1, 2], [1, 8, 0, 4]], mode: "max", size: 2, stride: 2 },
    { name: "Example 2: the full exercise after ReLU",
      image: [[0, 0, 0, 10], [0, 0, 0, 10], [0, 0, 0, 10], [0, 0, 0, 10]], mode: "max", size: 2, stride: 2 },
    { name: "Example 3: one window, the max-pool backward cache",
      image: [[1, 5], [2, 0]], mode: "max", size: 2, stride: 2 },
    { name: "Example 4: overlapping 3×3 windows, stride 2",
      image: [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]],
      mode: "max", size: 3, stride: 2 }
  ];
  var POOL_MODES = ["max", "average"];
  var POOL_SIZES = [1, 2, 3];
  var POOL_STRIDES = [1, 2, 3];
  var PADDINGS = ["0", "1", "same", "full"];
  var STRIDES = [1, 2];
  var MINUS = "\u2212";
  var counter = 0;

  function fmt(v) {
    var s = Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
    return s.replace("-", MINUS);
  }
  function term(v) { return v < 0 ? "(" + fmt(v) + ")" : fmt(v); }

  // (before, after) padding along one axis of length `size`, like helpers.shapes.
  function axisPadding(mode, size, k, stride) {
    if (mode === "same") {
      var out = Math.ceil(size / stride);
      var total = Math.max(stride * out - size + k - stride, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }
    if (mode === "full") return [k - 1, k - 1];
    var p = parseInt(mode, 10) || 0;
    return [p, p];
  }

  // Everything the view needs: padded input, padding masks, the output and its size.
  function compute(image, kernel, stride, padding) {
    var h = image.length, w = image[0].length, kh = kernel.length, kw = kernel[0].length;
    var ph = axisPadding(padding, h, kh, stride), pw = axisPadding(padding, w, kw, stride);
    var H = h + ph[0] + ph[1], W = w + pw[0] + pw[1];
    var padded = [], isPad = [];
    for (var r = 0; r < H; r++) {
      padded.push([]); isPad.push([]);
      for (var c = 0; c < W; c++) {
        var ir = r - ph[0], ic = c - pw[0];
        var inside = ir >= 0 && ir < h && ic >= 0 && ic < w;
        padded[r].push(inside ? image[ir][ic] : 0);
        isPad[r].push(!inside);
      }
    }
    var oh = Math.floor((H - kh) / stride) + 1, ow = Math.floor((W - kw) / stride) + 1;
    var out = [];
    for (var i = 0; i < oh; i++) {
      out.push([]);
      for (var j = 0; j < ow; j++) {
        var s = 0;
        for (var a = 0; a < kh; a++)
          for (var b = 0; b < kw; b++) s += kernel[a][b] * padded[i * stride + a][j * stride + b];
        out[i].push(s);
      }
    }
    return { padded: padded, isPad: isPad, out: out, oh: oh, ow: ow, pad: [ph, pw] };
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function labelled(id, label, control) {
    var wrap = el("span", { "class": "cx-field" });
    wrap.appendChild(el("label", { "for": id }, label));
    wrap.appendChild(control);
    return wrap;
  }

  function fillGrid(table, matrix, cellAttrs) {
    table.textContent = "";
    for (var r = 0; r < matrix.length; r++) {
      var tr = el("tr");
      for (var c = 0; c < matrix[r].length; c++) {
        var td = el("td", { "data-row": String(r), "data-col": String(c), "data-value": String(matrix[r][c]) }, fmt(matrix[r][c]));
        if (cellAttrs) cellAttrs(td, r, c);
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
  }

  // An output-position stepper: Previous / Next buttons, a slider and "position k of n".
  function makeStepper(uid, onMove) {
    var node = el("div", { "class": "cx-controls cx-stepper" });
    var prev = el("button", { type: "button", "class": "cx-prev", "aria-label": "Previous position" }, "\u25C0 Previous");
    var next = el("button", { type: "button", "class": "cx-next", "aria-label": "Next position" }, "Next \u25B6");
    var slider = el("input", { type: "range", id: uid + "-pos", "class": "cx-position", min: "0", max: "0", step: "1", value: "0" });
    var posText = el("span", { "class": "cx-position-text", "aria-live": "polite" });
    node.appendChild(prev);
    node.appendChild(next);
    node.appendChild(labelled(slider.id, "Position", slider));
    node.appendChild(posText);
    prev.addEventListener("click", function () { onMove(function (pos) { return pos - 1; }); });
    next.addEventListener("click", function () { onMove(function (pos) { return pos + 1; }); });
    slider.addEventListener("input", function () { onMove(function () { return parseInt(slider.value, 10) || 0; }); });
    return {
      node: node,
      show: function (pos, n, row, col) {
        slider.max = String(n - 1);
        slider.value = String(pos);
        slider.setAttribute("aria-valuetext", "row " + row + ", column " + col);
        posText.textContent = "position " + (pos + 1) + " of " + n + " (row " + row + ", column " + col + ")";
        prev.disabled = pos === 0;
        next.disabled = pos === n - 1;
      }
    };
  }

  // A captioned grid panel appended to `grids`.
  function makePanel(grids, title, cls) {
    var fig = el("figure", { "class": "cx-panel " + cls });
    fig.appendChild(el("figcaption", {}, title));
    var table = el("table", { "class": "cx-grid", "aria-label": title });
    fig.appendChild(table);
    grids.appendChild(fig);
    return { fig: fig, table: table, caption: fig.firstChild };
  }

  function makeSelect(uid, name, values, texts) {
    var sel = el("select", { id: uid + "-" + name, "class": "cx-" + name });
    values.forEach(function (v, i) { sel.appendChild(el("option", { value: String(v) }, texts ? texts[i] : String(v))); });
    return sel;
  }

  // The row of labelled controls above an explorer: [[label, select], ...].
  function controlBar(fields) {
    var controls = el("div", { "class": "cx-controls" });
    fields.forEach(function (f) { controls.appendChild(labelled(f[1].id, f[0], f[1])); });
    return controls;
  }

  function mount(root) {
    var uid = "cx" + (++counter);
    var state = { preset: 0, image: null, kernel: null, stride: 1, padding: "0", pos: 0 };
    root.classList.add("cx-mounted");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Convolution explorer");
    root.textContent = "";

    // Controls
    var presetSel = makeSelect(uid, "preset", PRESETS.map(function (p, i) { return i + 1; }),
                               PRESETS.map(function (p) { return p.name; }));
    var strideSel = makeSelect(uid, "stride", STRIDES);
    var padSel = makeSelect(uid, "padding", PADDINGS);
    root.appendChild(controlBar([["Example", presetSel], ["Stride", strideSel], ["Padding", padSel]]));

    var stepper = makeStepper(uid, function (move) { state.pos = move(state.pos); render(); });
    root.appendChild(stepper.node);

    // Grids
    var grids = el("div", { "class": "cx-grids" });
    function panel(title, cls) { return makePanel(grids, title, cls); }
    var inputPanel = panel("Input", "cx-input");
    var kernelFig = el("figure", { "class": "cx-panel cx-kernel" });
    kernelFig.appendChild(el("figcaption", {}, "Kernel (type your own)"));
    var kernelTable = el("table", { "class": "cx-grid cx-kernel-grid", "aria-label": "Kernel" });
    var kernelInputs = [];
    for (var a = 0; a < 3; a++) {
      var tr = el("tr");
      kernelInputs.push([]);
      for (var b = 0; b < 3; b++) {
        var td = el("td");
        var inp = el("input", { type: "text", inputmode: "decimal", "class": "cx-kernel-input",
                                "data-row": String(a), "data-col": String(b), size: "3",
                                "aria-label": "Kernel row " + (a + 1) + ", column " + (b + 1) });
        inp.addEventListener("input", onKernelInput);
        kernelInputs[a].push(inp);
        td.appendChild(inp);
        tr.appendChild(td);
      }
      kernelTable.appendChild(tr);
    }
    kernelFig.appendChild(kernelTable);
    grids.appendChild(kernelFig);
    var outputPanel = panel("Output", "cx-output");
    root.appendChild(grids);

    var sum = el("p", { "class": "cx-sum", "aria-live": "polite" });
    root.appendChild(sum);
    var note = el("p", { "class": "cx-note" });
    root.appendChild(note);

    function loadPreset(index) {
      var p = PRESETS[index];
      state.preset = index;
      state.image = p.image;
      state.kernel = p.kernel.map(function (row) { return row.slice(); });
      state.stride = p.stride;
      state.padding = p.padding;
      state.pos = 0;
      presetSel.value = String(index + 1);
      strideSel.value = String(p.stride);
      padSel.value = p.padding;
      for (var i = 0; i < 3; i++) for (var j = 0; j < 3; j++) {
        kernelInputs[i][j].value = String(state.kernel[i][j]);
        kernelInputs[i][j].classList.remove("cx-invalid");
      }
      render();
    }

    function onKernelInput(event) {
      var inp = event.target;
      var text = inp.value.trim().replace(MINUS, "-");
      var v = Number(text);
      if (text === "" || !isFinite(v)) { inp.classList.add("cx-invalid"); inp.setAttribute("aria-invalid", "true"); return; }
      inp.classList.remove("cx-invalid");
      inp.removeAttribute("aria-invalid");
      state.kernel[+inp.getAttribute("data-row")][+inp.getAttribute("data-col")] = v;
      render();
    }

    function render() {
      var res = compute(state.image, state.kernel, state.stride, state.padding);
      var n = res.oh * res.ow;
      if (state.pos > n - 1) state.pos = n - 1;
      if (state.pos < 0) state.pos = 0;
      var row = Math.floor(state.pos / res.ow), col = state.pos % res.ow;
      var r0 = row * state.stride, c0 = col * state.stride;
      var kh = state.kernel.length, kw = state.kernel[0].length;

      fillGrid(inputPanel.table, res.padded, function (td, r, c) {
        if (res.isPad[r][c]) td.classList.add("cx-pad");
        if (r >= r0 && r < r0 + kh && c >= c0 && c < c0 + kw) td.classList.add("cx-window");
      });
      var pads = res.pad;
      inputPanel.caption.textContent = "Input " + state.image.length + "×" + state.image[0].length +
        (pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] ? " (padding shaded)" : "");
      fillGrid(outputPanel.table, res.out, function (td, r, c) {
        if (r === row && c === col) { td.classList.add("cx-current"); td.setAttribute("aria-current", "true"); }
      });
      outputPanel.caption.textContent = "Output " + res.oh + "×" + res.ow;

      var parts = [], value = 0;
      for (var a = 0; a < kh; a++) for (var b = 0; b < kw; b++) {
        var k = state.kernel[a][b], x = res.padded[r0 + a][c0 + b];
        value += k * x;
        parts.push(term(k) + "\u00B7" + term(x));
      }
      value = res.out[row][col];
      sum.textContent = "";
      sum.setAttribute("data-row", String(row));
      sum.setAttribute("data-col", String(col));
      sum.setAttribute("data-value", String(value));
      sum.appendChild(el("span", { "class": "cx-sum-label" }, "Output[" + row + ", " + col + "] = "));
      sum.appendChild(el("span", { "class": "cx-sum-terms" }, parts.join(" + ")));
      sum.appendChild(document.createTextNode(" = "));
      sum.appendChild(el("strong", { "class": "cx-sum-value" }, fmt(value)));

      stepper.show(state.pos, n, row, col);
      note.textContent = "Stride " + state.stride + ", padding " + state.padding +
        " (top " + pads[0][0] + ", bottom " + pads[0][1] + ", left " + pads[1][0] + ", right " + pads[1][1] +
        "): output size floor((I + P_start + P_end − F) / S) + 1 = " + res.oh + "×" + res.ow + ".";
    }

    presetSel.addEventListener("change", function () { loadPreset(parseInt(presetSel.value, 10) - 1); });
    strideSel.addEventListener("change", function () { state.stride = parseInt(strideSel.value, 10); state.pos = 0; render(); });
    padSel.addEventListener("change", function () { state.padding = padSel.value; state.pos = 0; render(); });

    var start = parseInt(root.getAttribute("data-preset") || "1", 10);
    loadPreset(start >= 1 && start <= PRESETS.length ? start - 1 : 0);
  }

  // Max or average pooling, F x F windows, stride S, no padding (helpers.scratch.pool); for
  // each output cell also the window's values and, for max, the first arg-max (reading order).
  function poolCompute(image, size, stride, mode) {
    var h = image.length, w = image[0].length;
    var oh = Math.floor((h - size) / stride) + 1, ow = Math.floor((w - size) / stride) + 1;
    var out = [], argmax = [];
    for (var i = 0; i < oh; i++) {
      out.push([]); argmax.push([]);
      for (var j = 0; j < ow; j++) {
        var best = -Infinity, at = null, total = 0;
        for (var a = 0; a < size; a++)
          for (var b = 0; b < size; b++) {
            var x = image[i * stride + a][j * stride + b];
            total += x;
            if (x > best) { best = x; at = [i * stride + a, j * stride + b]; }
          }
        out[i].push(mode === "max" ? best : total / (size * size));
        argmax[i].push(at);
      }
    }
    return { out: out, argmax: argmax, oh: oh, ow: ow };
  }

  function mountPool(root) {
    var uid = "px" + (++counter);
    var state = { preset: 0, image: null, mode: "max", size: 2, stride: 2, pos: 0 };
    root.classList.add("cx-mounted");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Pooling explorer");
    root.textContent = "";

    var presetSel = makeSelect(uid, "preset", POOL_PRESETS.map(function (p, i) { return i + 1; }),
                               POOL_PRESETS.map(function (p) { return p.name; }));
    var modeSel = makeSelect(uid, "mode", POOL_MODES);
    var sizeSel = makeSelect(uid, "size", POOL_SIZES, POOL_SIZES.map(function (f) { return f + "×" + f; }));
    var strideSel = makeSelect(uid, "stride", POOL_STRIDES);
    root.appendChild(controlBar([["Example", presetSel], ["Pooling", modeSel], ["Window", sizeSel],
                                 ["Stride", strideSel]]));

    var stepper = makeStepper(uid, function (move) { state.pos = move(state.pos); render(); });
    root.appendChild(stepper.node);

    var grids = el("div", { "class": "cx-grids" });
    var inputPanel = makePanel(grids, "Input", "cx-input");
    var outputPanel = makePanel(grids, "Output", "cx-output");
    root.appendChild(grids);
    var sum = el("p", { "class": "cx-sum", "aria-live": "polite" });
    root.appendChild(sum);
    var note = el("p", { "class": "cx-note" });
    root.appendChild(note);

    // A window larger than the input is not offered.
    function fitSize() {
      var limit = Math.min(state.image.length, state.image[0].length);
      for (var i = 0; i < sizeSel.options.length; i++) sizeSel.options[i].disabled = POOL_SIZES[i] > limit;
      if (state.size > limit) state.size = limit;
      sizeSel.value = String(state.size);
    }

    function loadPreset(index) {
      var p = POOL_PRESETS[index];
      state.preset = index;
      state.image = p.image;
      state.mode = p.mode;
      state.size = p.size;
      state.stride = p.stride;
      state.pos = 0;
      presetSel.value = String(index + 1);
      modeSel.value = p.mode;
      strideSel.value = String(p.stride);
      fitSize();
      render();
    }

    function render() {
      var f = state.size, s = state.stride;
      var res = poolCompute(state.image, f, s, state.mode);
      var n = res.oh * res.ow;
      if (state.pos > n - 1) state.pos = n - 1;
      if (state.pos < 0) state.pos = 0;
      var row = Math.floor(state.pos / res.ow), col = state.pos % res.ow;
      var r0 = row * s, c0 = col * s, at = res.argmax[row][col];

      fillGrid(inputPanel.table, state.image, function (td, r, c) {
        if (r >= r0 && r < r0 + f && c >= c0 && c < c0 + f) td.classList.add("cx-window");
        if (state.mode === "max" && at[0] === r && at[1] === c) td.classList.add("cx-argmax");
      });
      inputPanel.caption.textContent = "Input " + state.image.length + "×" + state.image[0].length;
      fillGrid(outputPanel.table, res.out, function (td, r, c) {
        if (r === row && c === col) { td.classList.add("cx-current"); td.setAttribute("aria-current", "true"); }
      });
      outputPanel.caption.textContent = "Output " + res.oh + "×" + res.ow;

      var values = [];
      for (var a = 0; a < f; a++) for (var b = 0; b < f; b++) values.push(state.image[r0 + a][c0 + b]);
      var value = res.out[row][col];
      sum.textContent = "";
      sum.setAttribute("data-row", String(row));
      sum.setAttribute("data-col", String(col));
      sum.setAttribute("data-value", String(value));
      sum.appendChild(el("span", { "class": "cx-sum-label" }, "Output[" + row + ", " + col + "] = " +
                         (state.mode === "max" ? "max(" : "mean(")));
      sum.appendChild(el("span", { "class": "cx-sum-terms" }, values.map(fmt).join(", ")));
      sum.appendChild(document.createTextNode(")" + (state.mode === "max" ? "" :
        " = (" + values.map(term).join(" + ") + ") / " + values.length) + " = "));
      sum.appendChild(el("strong", { "class": "cx-sum-value" }, fmt(value)));

      stepper.show(state.pos, n, row, col);
      note.textContent = (state.mode === "max" ? "Max" : "Average") + " pooling, window " + f + "×" + f +
        ", stride " + s + (state.mode === "max" ? " (the maximum is shaded orange)" : "") +
        ": output size floor((I − F) / S) + 1 = " + res.oh + "×" + res.ow +
        "; no parameters, and each channel is pooled on its own.";
    }

    presetSel.addEventListener("change", function () { loadPreset(parseInt(presetSel.value, 10) - 1); });
    modeSel.addEventListener("change", function () { state.mode = modeSel.value; render(); });
    sizeSel.addEventListener("change", function () { state.size = parseInt(sizeSel.value, 10); state.pos = 0; render(); });
    strideSel.addEventListener("change", function () { state.stride = parseInt(strideSel.value, 10); state.pos = 0; render(); });

    var start = parseInt(root.getAttribute("data-preset") || "1", 10);
    loadPreset(start >= 1 && start <= POOL_PRESETS.length ? start - 1 : 0);
  }

  function init() {
    var roots = document.querySelectorAll(".conv-explorer:not(.cx-mounted)");
    for (var i = 0; i < roots.length; i++) mount(roots[i]);
    var pools = document.querySelectorAll(".pool-explorer:not(.cx-mounted)");
    for (var j = 0; j < pools.length; j++) mountPool(pools[j]);
  }

  // For the tests and the curious: the examples and the arithmetic, read-only.
  window.convExplorer = { presets: PRESETS, compute: compute, axisPadding: axisPadding };
  window.poolExplorer = { presets: POOL_PRESETS, compute: poolCompute };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
