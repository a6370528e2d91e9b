// Frame viewer: masks recoloured from the version's mask-label mapping (or shown as alpha), opacity,
// show/hide per mask, and previous/next with the arrow keys.
(function () {
  const legend = JSON.parse(document.getElementById("mask-legend-data").textContent);
  let colours = new Map(legend.map((e) => [e.value.join(","), e.colour]));
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const opacity = document.getElementById("mask-opacity");
  const layers = [...document.querySelectorAll("canvas.mask-layer")];

  function paint(canvas, image, mode) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const d = pixels.data;
    for (let i = 0; i < d.length; i += 4) {
      const key = `${d[i]},${d[i + 1]},${d[i + 2]}`;
      if (mode === "alpha") {
        const level = d[i];
        d[i] = 255; d[i + 1] = 255; d[i + 2] = 255; d[i + 3] = level;
        continue;
      }
      const colour = colours.get(key);
      if (!colour || key === "0,0,0") { d[i + 3] = 0; continue; }
      [d[i], d[i + 1], d[i + 2]] = hex(colour);
      d[i + 3] = 255;
    }
    ctx.putImageData(pixels, 0, 0);
    canvas.dataset.painted = mode;
  }

  function mode() { return (document.querySelector("input[name=mask-mode]:checked") || {}).value || "labels"; }

  layers.forEach((canvas) => {
    if (!canvas.dataset.src) return;
    const image = new Image();
    image.onload = () => { canvas._image = image; paint(canvas, image, mode()); };
    image.src = canvas.dataset.src;
  });
  const applyOpacity = () => layers.forEach((c) => { c.style.opacity = (opacity ? opacity.value : 55) / 100; });
  if (opacity) opacity.addEventListener("input", applyOpacity);
  applyOpacity();
  document.querySelectorAll("input[name=mask-mode]").forEach((r) => r.addEventListener("change", () =>
    layers.forEach((c) => c._image && paint(c, c._image, mode()))));
  // The editor saved a new mask-value mapping: recolour from it.
  document.addEventListener("masks:legend", (event) => {
    colours = new Map(event.detail.map((e) => [e.value.join(","), e.colour]));
    layers.forEach((c) => c._image && paint(c, c._image, mode()));
  });
  document.querySelectorAll(".mask-toggle").forEach((box) => box.addEventListener("change", () => {
    const layer = layers.find((c) => c.dataset.maskId === box.value);
    if (layer) layer.hidden = !box.checked;
  }));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    const link = document.getElementById(event.key === "ArrowLeft" ? "prev" : event.key === "ArrowRight" ? "next" : "");
    if (link) window.location = link.href;
  });
})();
