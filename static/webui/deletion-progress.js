// Follows a deletion job through the API until it ends: the bar, the counts, per store, and errors.
(function () {
  const root = document.querySelector("[data-testid=deletion-job]");
  if (!root || root.dataset.finished === "true") return;
  const bar = root.querySelector("[data-testid=job-progress]");
  const set = (scope, field, value) => {
    const el = scope.querySelector(`[data-field=${field}]`);
    if (el) el.textContent = value;
  };
  function render(job) {
    const done = job.deleted + job.skipped + job.failed;
    bar.max = job.total || 1;
    bar.value = done;
    root.querySelector("[data-testid=job-status]").textContent = job.status;
    const counts = root.querySelector("[data-testid=job-counts]");
    set(counts, "done", done);
    set(counts, "total", job.total);
    for (const field of ["deleted", "skipped", "failed"]) set(counts, field, job[field]);
    for (const [name, c] of Object.entries(job.providers)) {
      const row = root.querySelector(`[data-provider="${CSS.escape(name)}"]`);
      if (row) for (const field of ["deleted", "skipped", "failed"]) set(row, field, c[field]);
    }
    root.querySelector("[data-testid=job-skipped-reasons]").textContent =
      Object.entries(job.skipped_reasons).map(([r, n]) => `${r} ${n}`).join(", ") || "none";
    const errors = root.querySelector("[data-testid=job-errors]");
    errors.replaceChildren(...job.errors.map((e) => {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = `${e.count} × ${e.provider}: ${e.message} (e.g. ${e.example_uri})`;
      return p;
    }));
    root.dataset.finished = String(job.finished);
  }
  async function poll() {
    try {
      const response = await fetch(root.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const job = await response.json();
        render(job);
        if (job.finished) return;
      }
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();
