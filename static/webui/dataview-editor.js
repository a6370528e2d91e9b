// The dataview editor: draws the stored recipe, saves every change (debounced) through the REST API, then shows
// the per-rule counts and the preview grid of the stored recipe; and the exports with their progress.
(function () {
  const root = document.getElementById("dataview-editor");
  if (!root) return;
  const recipe = JSON.parse(document.getElementById("dataview-recipe").textContent);
  const datasets = JSON.parse(document.getElementById("dataview-datasets").textContent);
  const editable = root.dataset.editable === "true";
  const byId = new Map(datasets.map((d) => [d.id, d]));
  const status = root.querySelector("[data-testid=save-status]");
  const errorBox = root.querySelector("[data-testid=editor-error]");
  const ANY = "*";

  function csrf() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  async function api(method, url, body) {
    const response = await fetch(url, {
      method, credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data };
  }
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else if (key === "checked" || key === "disabled") node[key] = Boolean(value);
      else if (value !== undefined && value !== null) node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }
  function select(field, options, value) {
    const node = el("select", { "data-field": field, "aria-label": field });
    for (const [optionValue, label] of options) {
      const option = el("option", { value: optionValue, text: label });
      if (optionValue === value) option.selected = true;
      node.append(option);
    }
    return node;
  }
  const input = (field, value, attrs = {}) =>
    el("input", { "data-field": field, "aria-label": field, value: value ?? "", ...attrs });
  const remove = () => el("button", { type: "button", class: "link", "data-remove": "", text: "remove" });
  const datasetLabel = (d) => (d.project ? `${d.project} / ${d.name}` : d.name);
  const num = (value) => (value === "" || value === null || value === undefined ? null : Number(value));

  // --- drawing -----------------------------------------------------------------------------------------------
  const sections = Object.fromEntries([...root.querySelectorAll("[data-section]")].map((s) => [s.dataset.section, s]));

  function inputRow(entry = {}) {
    const row = el("div", { class: "filters", "data-testid": "input-row" });
    const datasetSelect = select("dataset", [["", "choose a dataset"], ...datasets.map((d) => [d.id, datasetLabel(d)])],
      entry.dataset || "");
    const versionSelect = select("version", [], "");
    const fillVersions = (chosen) => {
      const dataset = byId.get(datasetSelect.value);
      versionSelect.replaceChildren(...(dataset ? dataset.versions : []).map((v) => {
        const option = el("option", { value: v.id, text: `${v.name} (${v.status})` });
        if (v.id === chosen) option.selected = true;
        return option;
      }));
    };
    fillVersions(entry.version);
    datasetSelect.addEventListener("change", () => { fillVersions(null); redrawRuleScopes(); });
    versionSelect.addEventListener("change", redrawRuleScopes);
    row.append(datasetSelect, versionSelect, remove());
    return row;
  }

  function inputChoices() {
    return [...sections.inputs.querySelectorAll("[data-testid=input-row]")].map((row) => ({
      dataset: row.querySelector("[data-field=dataset]").value,
      version: row.querySelector("[data-field=version]").value,
    })).filter((entry) => entry.dataset);
  }

  function scopeOptions() {
    const chosen = inputChoices();
    const ids = [...new Set(chosen.map((c) => c.dataset))];
    return {
      datasets: [[ANY, "every dataset"], ...ids.map((id) => [id, byId.has(id) ? datasetLabel(byId.get(id)) : id])],
      versions: (datasetId) => [[ANY, "every version"], ...chosen.filter((c) => c.dataset === datasetId).map((c) => {
        const version = (byId.get(c.dataset)?.versions || []).find((v) => v.id === c.version);
        return [c.version, version ? version.name : c.version];
      })],
    };
  }

  function scopeSelects(row, dataset, version) {
    const scopes = scopeOptions();
    const datasetSelect = select("scope_dataset", scopes.datasets, dataset || ANY);
    const versionSelect = select("scope_version", scopes.versions(datasetSelect.value), version || ANY);
    datasetSelect.addEventListener("change", () => {
      versionSelect.replaceChildren(...select("v", scopes.versions(datasetSelect.value), ANY).children);
    });
    return [datasetSelect, versionSelect];
  }

  function redrawRuleScopes() {
    for (const row of root.querySelectorAll("[data-scope]")) {
      const dataset = row.querySelector("[data-field=scope_dataset]");
      const version = row.querySelector("[data-field=scope_version]");
      const [newDataset, newVersion] = scopeSelects(row, dataset.value, version.value);
      dataset.replaceWith(newDataset);
      version.replaceWith(newVersion);
    }
  }

  function labelRuleRow(rule = {}) {
    const count = rule.count_range || [];
    const conf = rule.conf_range || [];
    return el("div", { class: "filters", "data-testid": "label-rule" },
      input("label", rule.label, { placeholder: "label or Lucene", style: "width:14em" }),
      el("label", {}, el("input", { type: "checkbox", "data-field": "must_not", checked: rule.must_not }), " must not"),
      el("label", { text: "count " }), input("count_min", count[0] ?? "", { type: "number", min: 0, style: "width:4em" }),
      input("count_max", count[1] === -1 ? "" : count[1] ?? "", { type: "number", min: 0, style: "width:4em" }),
      el("label", { text: "conf " }), input("conf_min", conf[0] ?? "", { type: "number", step: "any", style: "width:4em" }),
      input("conf_max", conf[1] ?? "", { type: "number", step: "any", style: "width:4em" }),
      remove());
  }

  function ruleRow(rule = {}) {
    const row = el("fieldset", { class: "panel", "data-testid": "rule", "data-scope": "" });
    const [datasetSelect, versionSelect] = scopeSelects(row, rule.dataset, rule.version);
    const labelRules = el("div", { "data-section": "label_rules" }, ...(rule.label_rules || []).map(labelRuleRow));
    const addLabelRule = el("button", { type: "button", text: "+ ROI label rule" });
    addLabelRule.addEventListener("click", () => { labelRules.append(labelRuleRow()); changed(); });
    row.append(
      el("legend", {}, el("span", { "data-field": "rule_title", text: "Rule" }), " · ",
        el("strong", { "data-testid": "rule-count", text: "…" }), " frames"),
      el("div", { class: "filters" }, datasetSelect, versionSelect,
        el("label", { text: "weight " }), input("weight", rule.weight ?? 1, { type: "number", step: "any", min: 0, style: "width:5em" }),
        el("label", { text: "ROIs " }), select("filter_by_roi", [["", "by its label rules"], ["label_rules", "label rules"],
          ["no_rois", "frames without ROIs"], ["disabled", "any frame"]], rule.filter_by_roi || ""), remove()),
      el("div", { class: "filters" },
        input("frame_query", rule.frame_query, { placeholder: "frame query, e.g. meta.weather:clear", style: "width:22em" }),
        input("sources_query", rule.sources_query, { placeholder: "sources query", style: "width:16em" })),
      labelRules, addLabelRule);
    return row;
  }

  function mappingRow(rule = { source: {} }) {
    const row = el("div", { class: "filters", "data-testid": "mapping-row", "data-scope": "" });
    const [datasetSelect, versionSelect] = scopeSelects(row, rule.source.dataset, rule.source.version);
    row.append(input("from_labels", (rule.source.labels || []).join(", "), { placeholder: "from labels (all of)" }),
      el("span", { text: "→" }), input("to_label", rule.target, { placeholder: "to label" }),
      datasetSelect, versionSelect, remove());
    return row;
  }

  const enumerationRow = (label = "", value = "") => el("div", { class: "filters", "data-testid": "enumeration-row" },
    input("label", label, { placeholder: "label" }), input("number", value, { type: "number", step: 1, style: "width:6em" }),
    remove());

  function draw() {
    sections.inputs.replaceChildren(...recipe.versions.map(inputRow));
    sections.rules.replaceChildren(...recipe.filters.map(ruleRow));
    sections.mapping.replaceChildren(...recipe.mapping.map(mappingRow));
    sections.enumeration.replaceChildren(...Object.entries(recipe.labels_enumeration).map(([k, v]) => enumerationRow(k, v)));
    const iteration = sections.iteration;
    iteration.querySelector("[data-field=output_rois]").value = recipe.output_rois;
    iteration.querySelector("[data-field=order]").value = recipe.iteration.order || "sequential";
    iteration.querySelector("[data-field=random_seed]").value = recipe.iteration.random_seed ?? "";
    iteration.querySelector("[data-field=infinite]").checked = Boolean(recipe.iteration.infinite);
    iteration.querySelector("[data-field=limit]").value = recipe.iteration.limit ?? "";
    numberRules();
    if (!editable) for (const node of root.querySelectorAll("input, select, button")) node.disabled = true;
  }
  function numberRules() {
    root.querySelectorAll("[data-testid=rule] [data-field=rule_title]").forEach((title, i) => { title.textContent = `Rule ${i + 1}`; });
  }

  // --- reading the form back -----------------------------------------------------------------------------------
  const value = (row, field) => row.querySelector(`[data-field=${field}]`).value.trim();

  function collect() {
    const filters = [...sections.rules.querySelectorAll("[data-testid=rule]")].map((row) => {
      const rule = { dataset: value(row, "scope_dataset"), version: value(row, "scope_version"),
                     weight: num(value(row, "weight")) ?? 1 };
      const mode = value(row, "filter_by_roi");
      if (mode) rule.filter_by_roi = mode;
      for (const field of ["frame_query", "sources_query"]) if (value(row, field)) rule[field] = value(row, field);
      const labelRules = [...row.querySelectorAll("[data-testid=label-rule]")].map((r) => {
        const labelRule = { label: value(r, "label") };
        if (r.querySelector("[data-field=must_not]").checked) labelRule.must_not = true;
        const [cmin, cmax, fmin, fmax] = ["count_min", "count_max", "conf_min", "conf_max"].map((f) => num(value(r, f)));
        if (cmin !== null || cmax !== null) labelRule.count_range = [cmin ?? 0, cmax ?? -1];
        if (fmin !== null || fmax !== null) labelRule.conf_range = [fmin ?? 0, fmax ?? 1];
        return labelRule;
      });
      if (labelRules.length) rule.label_rules = labelRules;
      return rule;
    });
    const mapping = [...sections.mapping.querySelectorAll("[data-testid=mapping-row]")].map((row) => ({
      source: { dataset: value(row, "scope_dataset"), version: value(row, "scope_version"),
                labels: value(row, "from_labels").split(",").map((l) => l.trim()).filter(Boolean) },
      target: value(row, "to_label"),
    }));
    const enumeration = {};
    for (const row of sections.enumeration.querySelectorAll("[data-testid=enumeration-row]")) {
      if (value(row, "label")) enumeration[value(row, "label")] = num(value(row, "number"));
    }
    const it = sections.iteration;
    return {
      versions: inputChoices().map((c) => ({ dataset_id: c.dataset, version_id: c.version })),
      filters, mapping, labels_enumeration: enumeration,
      output_rois: it.querySelector("[data-field=output_rois]").value,
      iteration: { order: it.querySelector("[data-field=order]").value,
                   infinite: it.querySelector("[data-field=infinite]").checked,
                   limit: num(it.querySelector("[data-field=limit]").value),
                   random_seed: num(it.querySelector("[data-field=random_seed]").value) },
    };
  }

  // --- saving, counting, previewing --------------------------------------------------------------------------
  let timer = null;
  let saving = Promise.resolve();
  // root.dataset.busy: "true" from a change until its save, counts and preview are done (tests wait on it).
  let pending = 0;
  function changed() {
    if (!editable) return;
    status.textContent = "Unsaved changes";
    root.dataset.busy = "true";
    clearTimeout(timer);
    pending += 1;
    const mine = pending;
    timer = setTimeout(() => {
      saving = saving.then(save).finally(() => { if (mine === pending) root.dataset.busy = "false"; });
    }, 500);
  }
  function showError(error) {
    if (!error) { errorBox.hidden = true; errorBox.textContent = ""; return; }
    const details = Object.entries(error.details || {}).map(([field, problems]) =>
      `${field}: ${[].concat(problems).map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join("; ")}`);
    errorBox.textContent = details.length ? details.join(" · ") : error.message;
    errorBox.hidden = false;
  }
  async function save() {
    status.textContent = "Saving…";
    const answer = await api("PATCH", root.dataset.api, collect());
    if (!answer.ok) {
      status.textContent = "Not saved";
      showError(answer.data && answer.data.error ? answer.data.error : { message: `HTTP ${answer.status}` });
      return;
    }
    showError(null);
    Object.assign(recipe, answer.data);
    sections.iteration.querySelector("[data-field=random_seed]").value = recipe.iteration.random_seed ?? "";
    status.textContent = "Saved";
    await refresh();
  }
  async function refresh() {
    const counts = await api("GET", root.dataset.countApi);
    const total = document.querySelector("[data-testid=total-count]");
    const list = document.querySelector("[data-testid=rule-counts]");
    if (counts.ok) {
      total.textContent = counts.data.total;
      const rows = root.querySelectorAll("[data-testid=rule] [data-testid=rule-count]");
      counts.data.rules.forEach((rule, i) => { if (rows[i]) rows[i].textContent = rule.count; });
      list.replaceChildren(...counts.data.rules.map((rule) => el("li", { "data-testid": "rule-share",
        text: `Rule ${rule.rule_index + 1}: ${rule.count} frames, ${rule.share} its own` })));
    } else {
      total.textContent = "—";
      list.replaceChildren(el("li", { class: "field-error", text: counts.data?.error?.message || `HTTP ${counts.status}` }));
    }
    const grid = document.getElementById("preview-grid");
    const preview = await fetch(root.dataset.preview, { credentials: "same-origin" });
    grid.innerHTML = preview.ok ? await preview.text() : "";
    grid.dataset.loaded = String(Date.now());
  }

  for (const [kind, make] of Object.entries({ input: () => inputRow(), rule: () => ruleRow(), mapping: () => mappingRow(),
                                              enumeration: () => enumerationRow() })) {
    const button = root.querySelector(`[data-add=${kind}]`);
    button.addEventListener("click", () => {
      const section = { input: "inputs", rule: "rules", mapping: "mapping", enumeration: "enumeration" }[kind];
      sections[section].append(make());
      numberRules();
      if (kind === "input") redrawRuleScopes();
      changed();
    });
  }
  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove]");
    if (!button || !editable) return;
    button.parentElement.closest("[data-testid]").remove();
    numberRules();
    redrawRuleScopes();
    changed();
  });
  root.addEventListener("change", changed);
  root.addEventListener("input", (event) => { if (event.target.matches("input[type=text], input:not([type])")) changed(); });

  draw();
  root.dataset.busy = "true";
  refresh().finally(() => { if (pending === 0) root.dataset.busy = "false"; });

  // --- exports -----------------------------------------------------------------------------------------------
  const exportsPanel = document.querySelector("[data-testid=exports]");
  const exportList = exportsPanel.querySelector("[data-testid=export-list]");
  function exportRow(job) {
    let row = exportList.querySelector(`[data-export-id="${CSS.escape(job.id)}"]`);
    if (!row) {
      row = el("li", { "data-export-id": job.id, "data-testid": "export-row" });
      exportList.prepend(row);
    }
    row.dataset.status = job.status;
    const bar = el("progress", { max: job.total || 1, value: job.done, "data-field": "progress" });
    row.replaceChildren(el("span", { "data-field": "status", text: job.status }), ` ${job.format} · `,
      bar, el("span", { "data-field": "counts", text: ` ${job.done} / ${job.total ?? "?"}` }));
    if (job.download_url) row.append(" ", el("a", { href: job.download_url, "data-testid": "export-download", text: "download" }));
    if (job.error) row.append(" ", el("span", { class: "field-error", text: job.error }));
    return row;
  }
  async function follow(id) {
    const answer = await api("GET", `/api/dataview-exports/${encodeURIComponent(id)}/`);
    if (answer.ok) {
      exportRow(answer.data);
      if (answer.data.status === "succeeded" || answer.data.status === "failed") return;
    }
    setTimeout(() => follow(id), 500);
  }
  exportsPanel.querySelector("[data-testid=export-form]").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const projection = form.projection.value.split(",").map((p) => p.trim()).filter(Boolean);
    const body = { format: form.format.value };
    if (projection.length) body.projection = projection;
    const answer = await api("POST", exportsPanel.dataset.api, body);
    if (!answer.ok) {
      exportList.prepend(el("li", { class: "field-error", "data-testid": "export-error",
        text: answer.data?.error?.message || `HTTP ${answer.status}` }));
      return;
    }
    exportRow(answer.data);
    follow(answer.data.id);
  });
  for (const row of exportList.querySelectorAll("[data-export-id]")) {
    if (row.dataset.status === "queued" || row.dataset.status === "running") follow(row.dataset.exportId);
  }
})();
