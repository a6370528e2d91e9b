// Annotation editor of the frame page. Coordinates are source pixels: the SVG overlay's viewBox is the
// source's size, and pointer positions are mapped through the overlay's on-screen box, so zoom and pan (a CSS
// transform of the stage) need no other bookkeeping. Every change goes through commit(), which keeps the undo
// stack; Save writes the whole frame with If-Match, so a frame saved by someone else since is refused.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const viewer = document.querySelector("[data-testid=viewer]");
  const stage = viewer.querySelector(".stage");
  const svg = viewer.querySelector("svg.overlay");
  const NS = "http://www.w3.org/2000/svg";
  const SEP = -999999999;
  const EDITABLE_KINDS = new Set(["b2d", "p2d", "k2d", "elp"]);
  const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
  const clone = (value) => JSON.parse(JSON.stringify(value));
  let W = data.width, H = data.height;

  // --- zoom and pan (both modes) ------------------------------------------------------------------------
  const view = { scale: 1, x: 0, y: 0 };
  function applyView() {
    stage.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    $("zoom-level").textContent = `${Math.round(view.scale * 100)}%`;
    if (editor) editor.render();
  }
  function zoomAt(factor, clientX, clientY) {
    const box = viewer.getBoundingClientRect();
    const px = clientX === undefined ? box.width / 2 : clientX - box.left;
    const py = clientY === undefined ? box.height / 2 : clientY - box.top;
    const scale = Math.min(40, Math.max(1, view.scale * factor));
    view.x = px - (px - view.x) * (scale / view.scale);
    view.y = py - (py - view.y) * (scale / view.scale);
    view.scale = scale;
    clampView();
    applyView();
  }
  function clampView() {
    const box = viewer.getBoundingClientRect();
    view.x = Math.min(0, Math.max(box.width * (1 - view.scale), view.x));
    view.y = Math.min(0, Math.max(box.height * (1 - view.scale), view.y));
  }
  function fit() { view.scale = 1; view.x = 0; view.y = 0; applyView(); }
  viewer.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX, event.clientY);
  }, { passive: false });

  let panning = null;
  let spaceHeld = false;
  function startPan(event) {
    panning = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y };
    viewer.setPointerCapture(event.pointerId);
    viewer.classList.add("panning");
  }
  viewer.addEventListener("pointermove", (event) => {
    if (!panning) return;
    view.x = panning.vx + event.clientX - panning.x;
    view.y = panning.vy + event.clientY - panning.y;
    clampView();
    applyView();
  });
  viewer.addEventListener("pointerup", () => { panning = null; viewer.classList.remove("panning"); });

  // --- the frame's saves, newest first (both modes; the editor refreshes them after a save) ----------------
  function renderHistory(edits) {
    const list = $("history-rows");
    if (!edits.length) {
      const empty = document.createElement("li");
      empty.className = "muted";
      empty.dataset.testid = "history-empty";
      empty.textContent = "No saves from the editor yet.";
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(...edits.map((edit) => {
      const li = document.createElement("li");
      li.dataset.testid = "history-row";
      const who = document.createElement("strong");
      who.textContent = edit.user;
      const when = document.createElement("time");
      when.dateTime = edit.saved_at;
      when.textContent = ` ${edit.saved_at.slice(0, 19).replace("T", " ")} `;
      const what = document.createElement("span");
      what.className = "muted";
      const c = edit.changes;
      what.textContent = `${edit.version} · ${edit.rois_before} → ${edit.rois_after} ROIs`
        + (c.added.length ? ` · +${c.added.length}` : "") + (c.removed.length ? ` · −${c.removed.length}` : "")
        + (c.changed.length ? ` · ~${c.changed.length}` : "");
      li.append(who, when, what);
      return li;
    }));
  }
  renderHistory(data.history);

  // --- the editor (Draft versions the user may write) ----------------------------------------------------
  let editor = null;
  let tool = "pan";
  function setTool(name) {
    if (editor) editor.finishDrawing(false);
    tool = name;
    document.querySelectorAll("button[data-tool]").forEach((b) => b.classList.toggle("active", b.dataset.tool === name));
    viewer.dataset.mode = name;
  }

  if (data.editable) editor = createEditor();
  setTool(data.editable ? "select" : "pan");

  viewer.addEventListener("pointerdown", (event) => {
    if (event.button === 1 || spaceHeld || tool === "pan" || (event.button === 0 && !editor)) {
      event.preventDefault();
      startPan(event);
      return;
    }
    if (editor && event.button === 0) editor.pointerDown(event);
  });

  document.querySelectorAll("button[data-tool]").forEach((b) => b.addEventListener("click", () => {
    setTool(b.dataset.tool);
    b.blur(); // keys go to the shortcuts, not to the button
  }));
  const actions = {
    "zoom-in": () => zoomAt(1.25), "zoom-out": () => zoomAt(0.8), fit,
  };
  if (editor) Object.assign(actions, editor.actions);
  document.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => {
    b.blur();
    actions[b.dataset.action]();
  }));

  const TOOL_KEYS = { v: "select", b: "box", p: "polygon", k: "keypoints", e: "ellipse", h: "pan" };
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select");
    const mod = event.ctrlKey || event.metaKey;
    if (editor && mod && event.key.toLowerCase() === "s") { event.preventDefault(); editor.actions.save(); return; }
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (editor && mod && event.key.toLowerCase() === "z") {
      event.preventDefault();
      if (event.shiftKey) editor.actions.redo(); else editor.actions.undo();
      return;
    }
    if (editor && mod && event.key.toLowerCase() === "y") { event.preventDefault(); editor.actions.redo(); return; }
    if (mod || event.altKey) return;
    if (event.key === " ") { spaceHeld = true; event.preventDefault(); return; }
    if (event.key === "+" || event.key === "=") { zoomAt(1.25); return; }
    if (event.key === "-" || event.key === "_") { zoomAt(0.8); return; }
    if (event.key === "0") { fit(); return; }
    const name = TOOL_KEYS[event.key.toLowerCase()];
    if (name && (editor || name === "pan")) { setTool(name); return; }
    if (editor) editor.key(event);
  });
  document.addEventListener("keyup", (event) => { if (event.key === " ") spaceHeld = false; });

  // Sources without a stored size take the image's own.
  const image = viewer.querySelector("img");
  if ((!W || !H) && image) {
    const sized = () => {
      W = image.naturalWidth; H = image.naturalHeight;
      svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
      viewer.style.aspectRatio = `${W} / ${H}`;
      if (editor) editor.render();
    };
    if (image.complete && image.naturalWidth) sized(); else image.addEventListener("load", sized);
  }

  function createEditor() {
    const defaultsKey = `hyperdatasets:default-labels:${data.version}`;
    const defaults = $("default-labels");
    defaults.value = localStorage.getItem(defaultsKey) || "";
    defaults.addEventListener("change", () => localStorage.setItem(defaultsKey, defaults.value));

    let frame = data.frame;
    let revision = data.revision;
    let rois = clone(frame.rois);
    let savedState = JSON.stringify(rois);
    let selected = null; // a ROI id
    let drawing = null; // the shape being drawn
    let drag = null; // a move or handle drag in progress
    let saving = false;
    const undoStack = [];
    const redoStack = [];
    const knownLabels = new Set(data.labels);
    let counter = 0;

    const kindOf = (roi) => (roi.meta && roi.meta._type) || (roi.poly.length ? "p2d" : null);
    const onSource = (roi) => !roi.sources || roi.sources.includes(data.source);
    const drawable = (roi) => roi.poly.length > 0 && onSource(roi) && !["p3d", "k3d", "b3d"].includes(kindOf(roi));
    const isFrameLabel = (roi) => !roi.poly.length && !roi.mask;
    const byId = (id) => rois.find((roi) => roi.id === id);
    const dirty = () => JSON.stringify(rois) !== savedState;
    function newId() {
      const taken = new Set(rois.map((r) => r.id));
      let id;
      do { id = `roi-${Date.now().toString(36)}-${(counter++).toString(36)}`; } while (taken.has(id));
      return id;
    }
    function defaultLabels() {
      return [...new Set(defaults.value.split(",").map((l) => l.trim()).filter(Boolean))];
    }
    function colour(label) {
      let sum = 0;
      for (const ch of label) sum += ch.codePointAt(0);
      return data.palette[sum % data.palette.length];
    }
    const unitsPerPixel = () => W / (svg.getBoundingClientRect().width || W);
    function toImage(event, clamp = true) {
      const box = svg.getBoundingClientRect();
      let x = ((event.clientX - box.left) * W) / box.width;
      let y = ((event.clientY - box.top) * H) / box.height;
      if (clamp) { x = Math.min(W, Math.max(0, x)); y = Math.min(H, Math.max(0, y)); }
      return [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
    }

    // Changes: one undo step each.
    function commit(change) {
      undoStack.push(clone(rois));
      redoStack.length = 0;
      change();
      changed();
    }
    function undo() {
      if (drawing) { finishDrawing(false); return; }
      if (!undoStack.length) return;
      redoStack.push(clone(rois));
      rois = undoStack.pop();
      changed();
    }
    function redo() {
      if (!redoStack.length) return;
      undoStack.push(clone(rois));
      rois = redoStack.pop();
      changed();
    }
    function changed() {
      if (selected && !byId(selected)) selected = null;
      render();
      renderList();
      renderInspector();
      renderFrameLabels();
      $("undo").disabled = !undoStack.length;
      $("redo").disabled = !redoStack.length;
      $("delete-roi").disabled = !selected;
      $("save").disabled = saving || !dirty();
      if (dirty()) setStatus("Unsaved changes");
    }
    function select(id) {
      selected = id;
      render();
      renderList();
      renderInspector();
      $("delete-roi").disabled = !selected;
    }

    // --- geometry ---------------------------------------------------------------------------------------
    function vertexIndexes(poly) {
      const out = [];
      for (let i = 0; i + 1 < poly.length; i += 2) {
        if (poly[i] === SEP) { i -= 1; continue; }
        out.push(i);
      }
      return out;
    }
    function parts(poly) {
      const out = [[]];
      for (const n of poly) { if (n === SEP) out.push([]); else out[out.length - 1].push(n); }
      return out.filter((p) => p.length);
    }
    const boxPoly = (x0, y0, x1, y1) => {
      const [l, r, t, b] = [Math.min(x0, x1), Math.max(x0, x1), Math.min(y0, y1), Math.max(y0, y1)];
      return [l, t, r, t, r, b, l, b];
    };
    function ellipseHandles(poly) {
      const [cx, cy, rx, ry, theta] = poly;
      const c = Math.cos(theta), s = Math.sin(theta);
      return [[cx + rx * c, cy + rx * s, "rx"], [cx - ry * s, cy + ry * c, "ry"]];
    }
    function handlesOf(roi) {
      const kind = kindOf(roi);
      if (kind === "elp") return ellipseHandles(roi.poly).map(([x, y, which]) => ({ x, y, which }));
      if (kind === "b2d") return [0, 2, 4, 6].map((i, corner) => ({ x: roi.poly[i], y: roi.poly[i + 1], corner }));
      return vertexIndexes(roi.poly).map((i) => ({ x: roi.poly[i], y: roi.poly[i + 1], index: i }));
    }
    const round = (n) => Math.round(n * 100) / 100;
    function moveBy(roi, dx, dy, from) {
      if (kindOf(roi) === "elp") {
        roi.poly = [round(from[0] + dx), round(from[1] + dy), from[2], from[3], from[4]];
        return;
      }
      let k = 0; // position inside the current part: even for x, odd for y
      roi.poly = from.map((n) => {
        if (n === SEP) { k = 0; return SEP; }
        return round(n + (k++ % 2 ? dy : dx));
      });
    }
    function dragHandle(roi, handle, point, from) {
      const [x, y] = point;
      const kind = kindOf(roi);
      if (kind === "b2d") {
        const opposite = (handle.corner + 2) % 4;
        roi.poly = boxPoly(x, y, from[opposite * 2], from[opposite * 2 + 1]);
      } else if (kind === "elp") {
        const [cx, cy, rx, ry, theta] = from;
        const c = Math.cos(theta), s = Math.sin(theta);
        const along = handle.which === "rx" ? (x - cx) * c + (y - cy) * s : -(x - cx) * s + (y - cy) * c;
        const r = round(Math.abs(along));
        roi.poly = handle.which === "rx" ? [cx, cy, r, ry, theta] : [cx, cy, rx, r, theta];
      } else {
        roi.poly = from.slice();
        roi.poly[handle.index] = x;
        roi.poly[handle.index + 1] = y;
      }
    }

    // --- drawing on the overlay ------------------------------------------------------------------------
    const node = (name, attrs, parent) => {
      const el = document.createElementNS(NS, name);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (parent) parent.appendChild(el);
      return el;
    };
    const pointsAttr = (part) => {
      const out = [];
      for (let i = 0; i + 1 < part.length; i += 2) out.push(`${part[i]},${part[i + 1]}`);
      return out.join(" ");
    };
    function shape(roi) {
      const kind = kindOf(roi);
      const label = roi.label.join(", ") || "(no label)";
      const g = node("g", {
        class: `roi ${kind}${roi.id === selected ? " selected" : ""}`, "data-testid": "roi", "data-kind": kind,
        "data-label": label, "data-roi-id": roi.id, style: `--roi: ${colour(label)}`,
      });
      const unit = unitsPerPixel();
      let anchor = [roi.poly[0], roi.poly[1] - 4 * unit];
      if (kind === "elp") {
        const [cx, cy, rx, ry, theta] = roi.poly;
        node("ellipse", { cx, cy, rx, ry, transform: `rotate(${(theta * 180) / Math.PI} ${cx} ${cy})` }, g);
        anchor = [cx - rx, cy - ry - 4 * unit];
      } else if (kind === "k2d") {
        for (const i of vertexIndexes(roi.poly)) node("circle", { cx: roi.poly[i], cy: roi.poly[i + 1], r: 3.5 * unit }, g);
      } else {
        for (const part of parts(roi.poly)) node("polygon", { points: pointsAttr(part) }, g);
      }
      const text = node("text", { x: anchor[0], y: anchor[1], style: `font-size: ${11 * unit}px; stroke-width: ${3 * unit}px` }, g);
      text.textContent = label;
      return g;
    }
    function render() {
      svg.replaceChildren();
      for (const roi of rois) if (drawable(roi)) svg.appendChild(shape(roi));
      const chosen = selected && byId(selected);
      if (chosen && drawable(chosen) && EDITABLE_KINDS.has(kindOf(chosen))) {
        const layer = node("g", { class: "handles" }, svg);
        const unit = unitsPerPixel();
        handlesOf(chosen).forEach((h, n) => {
          const el = node("rect", {
            x: h.x - 5 * unit, y: h.y - 5 * unit, width: 10 * unit, height: 10 * unit,
            class: "handle", "data-testid": "handle", "data-handle": n,
          }, layer);
          el._handle = h;
        });
      }
      if (drawing) renderDrawing();
    }
    function renderDrawing() {
      const layer = node("g", { class: "drawing", "data-testid": "drawing" }, svg);
      const unit = unitsPerPixel();
      const { kind, points, cursor } = drawing;
      if (kind === "box" && cursor) node("polygon", { points: pointsAttr(boxPoly(...points, ...cursor)) }, layer);
      if (kind === "ellipse" && cursor) {
        const [x0, y0] = points, [x1, y1] = cursor;
        node("ellipse", { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: Math.abs(x1 - x0) / 2, ry: Math.abs(y1 - y0) / 2 }, layer);
      }
      if (kind === "polygon") {
        node("polyline", { points: pointsAttr([...points, ...(cursor || [])]) }, layer);
        for (let i = 0; i < points.length; i += 2) {
          node("circle", { cx: points[i], cy: points[i + 1], r: (i ? 3 : 6) * unit, class: i ? "" : "first" }, layer);
        }
      }
      if (kind === "keypoints") {
        for (let i = 0; i < points.length; i += 2) node("circle", { cx: points[i], cy: points[i + 1], r: 4 * unit }, layer);
      }
    }

    function addRoi(kind, poly) {
      const roi = { id: newId(), label: defaultLabels(), confidence: 1, poly, meta: { _type: kind } };
      if (!data.single_source) roi.sources = [data.source];
      commit(() => { rois.push(roi); selected = roi.id; });
      roi.label.forEach((l) => knownLabels.add(l));
      $("roi-label-input").focus();
    }
    function finishDrawing(keep) {
      if (!drawing) return;
      const { kind, points } = drawing;
      drawing = null;
      if (keep && kind === "polygon" && points.length >= 6) addRoi("p2d", points);
      else if (keep && kind === "keypoints" && points.length >= 2) addRoi("k2d", points);
      else render();
    }

    function pointerDown(event) {
      const point = toImage(event);
      if (tool === "select") {
        const handle = event.target.closest(".handle");
        const hit = event.target.closest("g.roi");
        if (handle) {
          const roi = byId(selected);
          drag = { roi, handle: handle._handle, from: roi.poly.slice(), start: point, before: clone(rois), moved: false };
        } else if (hit) {
          const roi = byId(hit.dataset.roiId);
          select(roi.id);
          drag = { roi, from: roi.poly.slice(), start: point, before: clone(rois), moved: false };
        } else {
          select(null);
          startPan(event);
          return;
        }
        svg.setPointerCapture(event.pointerId);
        return;
      }
      if (tool === "box" || tool === "ellipse") {
        drawing = { kind: tool, points: point, cursor: null };
        svg.setPointerCapture(event.pointerId);
        return;
      }
      if (tool === "polygon" || tool === "keypoints") {
        if (!drawing) drawing = { kind: tool, points: [], cursor: null };
        const pts = drawing.points;
        const unit = unitsPerPixel();
        const near = (i, limit) => Math.hypot(point[0] - pts[i], point[1] - pts[i + 1]) <= limit * unit;
        if (tool === "polygon" && pts.length >= 6 && near(0, 8)) { finishDrawing(true); return; }
        if (pts.length && near(pts.length - 2, 1)) return; // the second click of a double click
        pts.push(...point);
        render();
      }
    }
    svg.addEventListener("pointermove", (event) => {
      if (drag) {
        const point = toImage(event, false);
        const dx = point[0] - drag.start[0], dy = point[1] - drag.start[1];
        if (!drag.moved && Math.hypot(dx, dy) < 0.5 * unitsPerPixel()) return;
        drag.moved = true;
        if (drag.handle) dragHandle(drag.roi, drag.handle, toImage(event), drag.from);
        else moveBy(drag.roi, Math.round(dx * 100) / 100, Math.round(dy * 100) / 100, drag.from);
        render();
        return;
      }
      if (drawing) { drawing.cursor = toImage(event); render(); }
    });
    svg.addEventListener("pointerup", (event) => {
      if (drag) {
        const { moved, before } = drag;
        drag = null;
        if (moved) { undoStack.push(before); redoStack.length = 0; changed(); }
        return;
      }
      if (drawing && (drawing.kind === "box" || drawing.kind === "ellipse")) {
        const [x0, y0] = drawing.points;
        const [x1, y1] = toImage(event);
        const kind = drawing.kind;
        drawing = null;
        const min = 2 * unitsPerPixel();
        if (Math.abs(x1 - x0) < min || Math.abs(y1 - y0) < min) { render(); return; }
        if (kind === "box") addRoi("b2d", boxPoly(x0, y0, x1, y1));
        else addRoi("elp", [round((x0 + x1) / 2), round((y0 + y1) / 2), round(Math.abs(x1 - x0) / 2),
          round(Math.abs(y1 - y0) / 2), 0]);
      }
    });
    svg.addEventListener("dblclick", () => { if (drawing) finishDrawing(true); });

    function removeSelected() {
      if (!selected) return;
      commit(() => { rois = rois.filter((r) => r.id !== selected); selected = null; });
    }
    function key(event) {
      if (event.key === "Escape") { if (drawing) finishDrawing(false); else select(null); }
      else if (event.key === "Enter" && drawing) finishDrawing(true);
      else if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); removeSelected(); }
      else if (event.key === "Tab" && document.activeElement === document.body) {
        event.preventDefault();
        const shown = rois.filter(drawable);
        if (!shown.length) return;
        const at = shown.findIndex((r) => r.id === selected);
        select(shown[(at + (event.shiftKey ? shown.length - 1 : 1)) % shown.length].id);
      }
    }

    // --- side panels ------------------------------------------------------------------------------------
    function chip(text, onRemove, testid) {
      const el = document.createElement("span");
      el.className = "chip";
      el.dataset.testid = testid;
      el.dataset.label = text;
      el.textContent = text;
      const x = document.createElement("button");
      x.type = "button";
      x.className = "chip-remove";
      x.title = `remove ${text}`;
      x.textContent = "×";
      x.addEventListener("click", onRemove);
      el.appendChild(x);
      return el;
    }
    function renderList() {
      const list = $("roi-list");
      list.replaceChildren();
      for (const roi of rois.filter((r) => !isFrameLabel(r) && onSource(r))) {
        const li = document.createElement("li");
        li.dataset.testid = "roi-item";
        li.dataset.roiId = roi.id;
        li.className = roi.id === selected ? "selected" : "";
        const label = roi.label.join(", ") || "(no label)";
        li.innerHTML = '<span class="swatch"></span> <span class="name"></span> <span class="muted kind"></span>';
        li.querySelector(".swatch").style.background = colour(label);
        li.querySelector(".name").textContent = label;
        li.querySelector(".kind").textContent = kindOf(roi) || "mask";
        li.addEventListener("click", () => select(roi.id));
        list.appendChild(li);
      }
    }
    function renderInspector() {
      const roi = selected && byId(selected);
      $("inspector-empty").hidden = !!roi;
      document.querySelector(".inspector-fields").hidden = !roi;
      if (!roi) return;
      $("roi-kind").textContent = kindOf(roi) || "mask";
      $("roi-id").textContent = roi.id;
      $("roi-labels").replaceChildren(...roi.label.map((label) => chip(label, () => commit(() => {
        roi.label = roi.label.filter((l) => l !== label);
      }), "roi-label-chip")));
      const confidence = $("roi-confidence");
      if (document.activeElement !== confidence) confidence.value = roi.confidence ?? 1;
      const meta = $("roi-meta");
      if (document.activeElement !== meta) {
        const { _type, ...rest } = roi.meta || {};
        meta.value = JSON.stringify(rest, null, 2);
        $("roi-meta-error").hidden = true;
      }
    }
    $("roi-label-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("roi-label-input");
      const label = input.value.trim();
      const roi = selected && byId(selected);
      if (!label || !roi) return;
      input.value = "";
      if (roi.label.includes(label)) return;
      knownLabels.add(label);
      refreshLabelOptions();
      commit(() => { roi.label = [...roi.label, label]; });
      input.blur(); // back to the shortcuts; click the field again for another label
    });
    $("roi-confidence").addEventListener("change", (event) => {
      const roi = selected && byId(selected);
      const value = Number(event.target.value);
      if (!roi || event.target.value === "" || !(value >= 0 && value <= 1)) {
        event.target.setCustomValidity("confidence: a number from 0 to 1");
        event.target.reportValidity();
        return;
      }
      event.target.setCustomValidity("");
      if (value !== roi.confidence) commit(() => { roi.confidence = value; });
    });
    $("roi-meta-apply").addEventListener("click", () => {
      const roi = selected && byId(selected);
      const error = $("roi-meta-error");
      let meta;
      try {
        meta = JSON.parse($("roi-meta").value || "{}");
      } catch (exc) {
        error.textContent = `meta: not valid JSON (${exc.message})`;
        error.hidden = false;
        return;
      }
      if (!meta || typeof meta !== "object" || Array.isArray(meta)) {
        error.textContent = "meta: must be a JSON object";
        error.hidden = false;
        return;
      }
      error.hidden = true;
      if (!roi) return;
      const kind = roi.meta && roi.meta._type;
      commit(() => { roi.meta = kind ? { ...meta, _type: kind } : meta; });
    });

    function renderFrameLabels() {
      const holder = $("frame-labels");
      holder.replaceChildren(...rois.filter(isFrameLabel).map((roi) => chip(roi.label.join(", "),
        () => commit(() => { rois = rois.filter((r) => r !== roi); }), "frame-label")));
    }
    $("frame-label-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("frame-label-input");
      const label = input.value.trim();
      if (!label) return;
      input.value = "";
      if (rois.some((r) => isFrameLabel(r) && r.label.length === 1 && r.label[0] === label)) return;
      knownLabels.add(label);
      refreshLabelOptions();
      const roi = { id: newId(), label: [label], confidence: 1, poly: [], meta: {} };
      if (!data.single_source) roi.sources = [data.source];
      commit(() => rois.push(roi));
    });
    function refreshLabelOptions() {
      const list = document.getElementById("version-labels");
      const have = new Set([...list.options].map((o) => o.value));
      for (const label of knownLabels) {
        if (have.has(label)) continue;
        const option = document.createElement("option");
        option.value = label;
        list.appendChild(option);
      }
    }

    // --- saving -------------------------------------------------------------------------------------------
    function csrf() {
      const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      return match ? decodeURIComponent(match[1]) : "";
    }
    function setStatus(text) { $("save-status").textContent = text; }
    function showError(message, conflict) {
      const box = $("editor-error");
      $("editor-error-message").textContent = message;
      box.querySelector(".conflict-actions").hidden = !conflict;
      box.hidden = false;
    }
    function hideError() { $("editor-error").hidden = true; }
    async function request(method, url, body, headers = {}) {
      const response = await fetch(url, {
        method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let json = null;
      try { json = await response.json(); } catch (exc) { json = null; }
      return { response, json };
    }
    const etagRevision = (response) => Number(response.headers.get("ETag").replace(/"/g, ""));
    const errorText = (json, response) => (json && json.error ? json.error.message : `${response.status} ${response.statusText}`);
    async function save(ifMatch = revision) {
      if (saving || drawing) return;
      saving = true;
      $("save").disabled = true;
      setStatus("Saving…");
      const sent = clone(rois);
      try {
        const { response, json } = await request("PUT", data.urls.frame, { ...frame, rois: sent },
          { "If-Match": `"${ifMatch}"` });
        if (response.ok) {
          frame = json;
          revision = etagRevision(response);
          savedState = JSON.stringify(sent);
          hideError();
          setStatus(`Saved at ${new Date().toLocaleTimeString()}`);
          viewer.dataset.revision = revision;
          refreshHistory();
        } else {
          showError(errorText(json, response), response.status === 412);
          setStatus("Not saved");
        }
      } catch (exc) {
        showError(`The server could not be reached: ${exc.message}. Your changes are still here.`, false);
        setStatus("Not saved");
      } finally {
        saving = false;
        $("save").disabled = !dirty();
      }
    }
    async function overwrite() {
      const { response } = await request("GET", data.urls.frame);
      if (!response.ok) { showError("The frame can no longer be loaded: it was deleted.", false); return; }
      save(etagRevision(response));
    }
    async function refreshHistory() {
      const { response, json } = await request("GET", data.urls.history);
      if (response.ok) renderHistory(json.edits);
    }
    window.addEventListener("beforeunload", (event) => {
      if (dirty()) { event.preventDefault(); event.returnValue = ""; }
    });

    // --- the version's mask-value mapping -------------------------------------------------------------
    let mapping = clone(data.legend).map(({ value, labels }) => ({ value, labels }));
    function renderMapping() {
      const body = $("mask-mapping-rows");
      body.replaceChildren(...mapping.map((entry, i) => {
        const tr = document.createElement("tr");
        tr.dataset.testid = "mask-mapping-row";
        const swatch = document.createElement("td");
        swatch.innerHTML = '<span class="swatch"></span>';
        swatch.firstChild.style.background = data.palette[i % data.palette.length];
        tr.appendChild(swatch);
        entry.value.forEach((channel, c) => {
          const td = document.createElement("td");
          const input = document.createElement("input");
          Object.assign(input, { type: "number", min: 0, max: 255, step: 1, value: channel, className: "channel" });
          input.dataset.testid = `mask-value-${"rgb"[c]}`;
          input.addEventListener("change", () => { entry.value[c] = input.value === "" ? null : Number(input.value); });
          td.appendChild(input);
          tr.appendChild(td);
        });
        const labels = document.createElement("td");
        const input = document.createElement("input");
        Object.assign(input, { value: entry.labels.join(", "), placeholder: "labels, comma separated" });
        input.dataset.testid = "mask-labels";
        input.setAttribute("list", "version-labels");
        input.addEventListener("change", () => {
          entry.labels = input.value.split(",").map((l) => l.trim()).filter(Boolean);
        });
        labels.appendChild(input);
        tr.appendChild(labels);
        const remove = document.createElement("td");
        const x = document.createElement("button");
        Object.assign(x, { type: "button", textContent: "×", title: "remove this value", className: "chip-remove" });
        x.addEventListener("click", () => { mapping.splice(i, 1); renderMapping(); });
        remove.appendChild(x);
        tr.appendChild(remove);
        return tr;
      }));
    }
    $("mask-mapping-add").addEventListener("click", () => {
      const used = new Set(mapping.map((e) => e.value.join(",")));
      let n = 1;
      while (used.has(`${n},${n},${n}`) && n < 255) n++;
      mapping.push({ value: [n, n, n], labels: [] });
      renderMapping();
    });
    $("mask-mapping-save").addEventListener("click", async () => {
      const error = $("mask-mapping-error");
      const status = $("mask-mapping-status");
      status.textContent = "Saving…";
      const { response, json } = await request("PUT", data.urls.mask_labels, { mask_labels: mapping });
      if (!response.ok) {
        error.textContent = errorText(json, response);
        error.hidden = false;
        status.textContent = "Not saved";
        return;
      }
      error.hidden = true;
      mapping = json.mask_labels;
      renderMapping();
      status.textContent = "Saved";
      const legend = mapping.map((e, i) => ({ ...e, colour: data.palette[i % data.palette.length] }));
      document.dispatchEvent(new CustomEvent("masks:legend", { detail: legend }));
    });

    renderMapping();
    changed();
    setStatus("");
    viewer.dataset.revision = revision;
    viewer.dataset.editor = "ready";
    return {
      render, pointerDown, key, finishDrawing,
      actions: { undo, redo, save: () => save(), delete: removeSelected, overwrite, "load-theirs": () => {
        savedState = JSON.stringify(rois); // the user chose to drop their changes
        window.location.reload();
      } },
    };
  }

  applyView();
})();
